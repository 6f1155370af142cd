import { describe, expect, it } from "vitest";

import { validatePassword } from "./validation";

describe("validatePassword", () => {
  it("accepts a long enough password that is not the username", () => {
    expect(validatePassword("kite-river9", "racer3")).toBeNull();
  });

  it("refuses short, blank and username passwords before asking the API", () => {
    expect(validatePassword("")).toBe("Enter a password");
    expect(validatePassword("short")).toMatch(/at least 8/);
    expect(validatePassword("        ")).toMatch(/only spaces/);
    expect(validatePassword("Racer3_long", "racer3_LONG")).toMatch(/your username/);
  });
});
