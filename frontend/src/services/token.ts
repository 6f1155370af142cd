// The access token lives in localStorage so a reload keeps the user logged in.
const KEY = "flightdesk.token";

type Listener = (reason: "login" | "logout" | "expired") => void;
const listeners = new Set<Listener>();

export function getToken(): string | null {
  const token = localStorage.getItem(KEY);
  if (token && isExpired(token)) {
    localStorage.removeItem(KEY);
    return null;
  }
  return token;
}

export function setToken(token: string): void {
  localStorage.setItem(KEY, token);
  listeners.forEach((listener) => listener("login"));
}

export function clearToken(reason: "logout" | "expired" = "logout"): void {
  localStorage.removeItem(KEY);
  listeners.forEach((listener) => listener(reason));
}

export function onTokenChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** True when the JWT's `exp` has passed; an unreadable token counts as expired. */
export function isExpired(token: string, now: number = Date.now()): boolean {
  try {
    const payload = token.split(".")[1];
    if (!payload) return true;
    const json = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))) as { exp?: number };
    return typeof json.exp === "number" && json.exp * 1000 <= now;
  } catch {
    return true;
  }
}
