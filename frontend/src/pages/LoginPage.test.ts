import { describe, expect, it } from "vitest";

import { safeNext } from "./LoginPage";

describe("after login", () => {
  it("returns only to a path on this site", () => {
    expect(safeNext("/bookings?x=1")).toBe("/bookings?x=1");
    expect(safeNext("//evil.example")).toBe("/");
    expect(safeNext("https://evil.example")).toBe("/");
    expect(safeNext(null)).toBe("/");
  });
});
