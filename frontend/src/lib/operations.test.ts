import { describe, expect, it } from "vitest";

import { badgeLabel, errorsCsvFilename, errorsCsvPath, formatLoadFactor, isoDay, loadFactor, loadFactorColor } from "./operations";

describe("load factor", () => {
  it("is sold seats over offered seats", () => {
    expect(loadFactor(90, 120)).toBe(0.75);
    expect(formatLoadFactor(loadFactor(90, 120))).toBe("75%");
  });

  it("is zero, not NaN, for a flight with no seats offered", () => {
    expect(loadFactor(0, 0)).toBe(0);
    expect(formatLoadFactor(loadFactor(3, 0))).toBe("0%");
  });

  it("shows one seat sold on a big aircraft as under one percent, not zero", () => {
    expect(formatLoadFactor(loadFactor(1, 400))).toBe("<1%");
  });

  it("never shows over 100%, even when the figures disagree for a moment", () => {
    expect(formatLoadFactor(loadFactor(130, 120))).toBe("100%");
  });

  it("colours thin flights red and full ones green", () => {
    expect(loadFactorColor(0.2)).toBe("red");
    expect(loadFactorColor(0.6)).toBe("yellow");
    expect(loadFactorColor(0.85)).toBe("green");
  });
});

describe("unread badge", () => {
  it("shows nothing when nothing is unread", () => {
    expect(badgeLabel(0)).toBeNull();
    expect(badgeLabel(Number.NaN)).toBeNull();
  });

  it("shows the count, capped at 99+", () => {
    expect(badgeLabel(3)).toBe("3");
    expect(badgeLabel(99)).toBe("99");
    expect(badgeLabel(100)).toBe("99+");
  });
});

describe("errors CSV", () => {
  it("is fetched from the job's errors.csv path, the id escaped", () => {
    expect(errorsCsvPath("3f2a")).toBe("/admin/flights/bulk-upload/status/3f2a/errors.csv");
    expect(errorsCsvPath("a/b")).toBe("/admin/flights/bulk-upload/status/a%2Fb/errors.csv");
  });

  it("is saved under a name that says which import it came from", () => {
    expect(errorsCsvFilename("3f2a9c1e-0000-4000-8000-000000000000")).toBe("import-3f2a9c1e-errors.csv");
  });
});

describe("isoDay", () => {
  it("counts days in UTC", () => {
    expect(isoDay(new Date("2027-01-31T23:00:00Z"), 1)).toBe("2027-02-01");
  });
});
