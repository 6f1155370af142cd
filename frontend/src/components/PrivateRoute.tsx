import { Center, Loader } from "@mantine/core";
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router-dom";

import { useAuth } from "../services/auth";
import ForbiddenPage from "../pages/ForbiddenPage";

interface Props {
  children: ReactNode;
  adminOnly?: boolean;
}

/** Pages for logged-in users; without a token (or once it expires) the user goes to login and comes back. */
export default function PrivateRoute({ children, adminOnly = false }: Props) {
  const { token, user, loading } = useAuth();
  const location = useLocation();

  if (!token) {
    const next = encodeURIComponent(`${location.pathname}${location.search}`);
    return <Navigate to={`/login?next=${next}`} replace state={location.state} />;
  }
  if (loading || !user) {
    return (
      <Center py="xl">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (adminOnly && !user.is_admin) return <ForbiddenPage />;
  return <>{children}</>;
}
