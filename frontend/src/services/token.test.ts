import { describe, expect, it } from "vitest";

import { clearToken, getToken, isExpired, onTokenChange, setToken } from "./token";

function jwt(payload: object): string {
  return `e30.${btoa(JSON.stringify(payload)).replace(/=+$/, "")}.sig`;
}

describe("the stored token", () => {
  it("is expired once its exp has passed, and unreadable tokens count as expired", () => {
    const now = Date.UTC(2027, 0, 1);
    expect(isExpired(jwt({ exp: now / 1000 + 60 }), now)).toBe(false);
    expect(isExpired(jwt({ exp: now / 1000 - 1 }), now)).toBe(true);
    expect(isExpired("garbage", now)).toBe(true);
  });

  it("is dropped on read when expired", () => {
    localStorage.setItem("flightdesk.token", jwt({ exp: 1 }));
    expect(getToken()).toBeNull();
  });

  it("tells listeners why it went away", () => {
    const reasons: string[] = [];
    const stop = onTokenChange((reason) => reasons.push(reason));
    setToken(jwt({ exp: 4102444800 }));
    clearToken("expired");
    stop();
    expect(reasons).toEqual(["login", "expired"]);
    expect(getToken()).toBeNull();
  });
});
