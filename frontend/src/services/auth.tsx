import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import type { User } from "../types";
import * as api from "./api";
import { clearToken, getToken, onTokenChange, setToken } from "./token";

interface AuthState {
  token: string | null;
  user: User | null;
  /** True while the token is known but the user behind it is still being fetched. */
  loading: boolean;
  /** Set when the last logout was the server refusing the token, so login can say why. */
  expired: boolean;
  login: (username: string, password: string) => Promise<User>;
  logout: () => void;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setTokenState] = useState<string | null>(() => getToken());
  const [expired, setExpired] = useState(false);

  useEffect(
    () =>
      onTokenChange((reason) => {
        setTokenState(getToken());
        setExpired(reason === "expired");
        if (reason !== "login") queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== "airports" });
      }),
    [queryClient],
  );

  const me = useQuery({ queryKey: ["me", token], queryFn: api.me, enabled: token !== null, staleTime: 60_000 });

  const login = useCallback(
    async (username: string, password: string) => {
      const accessToken = await api.login(username, password);
      setToken(accessToken);
      const user = await queryClient.fetchQuery({ queryKey: ["me", accessToken], queryFn: api.me });
      return user;
    },
    [queryClient],
  );

  const logout = useCallback(() => clearToken("logout"), []);

  const value = useMemo<AuthState>(
    () => ({
      token,
      user: token ? (me.data ?? null) : null,
      loading: token !== null && me.isPending,
      expired,
      login,
      logout,
    }),
    [token, me.data, me.isPending, expired, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error("useAuth outside AuthProvider");
  return state;
}
