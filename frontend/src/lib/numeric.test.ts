import { describe, expect, it } from "vitest";

import { parseClock, parseOptionalWholeNumber, parsePrice, parseWholeNumber } from "./numeric";

const PASSENGERS = { min: 1, max: 9, unit: "passengers" };

describe("whole numbers typed by people", () => {
  it("are read whole", () => {
    expect(parseWholeNumber("3", PASSENGERS)).toEqual({ value: 3, error: null });
    expect(parseWholeNumber(" 9 ", PASSENGERS)).toEqual({ value: 9, error: null });
    expect(parseWholeNumber("09", PASSENGERS).value).toBe(9);
    expect(parseWholeNumber(4, PASSENGERS).value).toBe(4);
  });

  it("outside the range are refused with the range, never clamped or cut ('500' is not 5 or 9)", () => {
    expect(parseWholeNumber("500", PASSENGERS)).toEqual({ value: null, error: "1–9 passengers" });
    expect(parseWholeNumber("0", PASSENGERS).error).toBe("1–9 passengers");
    expect(parseWholeNumber("10", PASSENGERS).error).toBe("1–9 passengers");
    expect(parseWholeNumber("99999999999999999999", PASSENGERS).error).toBe("1–9 passengers");
  });

  it("with decimals, signs, exponents or letters are refused", () => {
    expect(parseWholeNumber("1.5", PASSENGERS).error).toBe("Whole numbers only (1–9 passengers)");
    expect(parseWholeNumber("2,", PASSENGERS).error).toBe("Whole numbers only (1–9 passengers)");
    for (const text of ["-1", "+2", "1e1", "two", "3 4", "0x2", "NaN", "Infinity"]) {
      expect(parseWholeNumber(text, PASSENGERS).value, text).toBeNull();
    }
    expect(parseWholeNumber(Number.NaN, PASSENGERS).value).toBeNull();
  });

  it("are asked for when empty, unless optional", () => {
    expect(parseWholeNumber("", PASSENGERS).error).toBe("Enter a number (1–9 passengers)");
    expect(parseOptionalWholeNumber("", PASSENGERS)).toEqual({ value: null, error: null });
    expect(parseOptionalWholeNumber("100", { min: 1, max: 72 }).error).toBe("1–72");
  });
});

describe("prices typed by an admin", () => {
  it("take rupees with up to 2 decimals and comma grouping", () => {
    expect(parsePrice("4500").value).toBe(4500);
    expect(parsePrice("4,500.5").value).toBe(4500.5);
    expect(parsePrice("1,00,000.25").value).toBe(100000.25);
    expect(parsePrice("0").value).toBe(0);
    expect(parsePrice(".5").value).toBe(0.5);
  });

  it("refuse a third decimal instead of cutting it", () => {
    expect(parsePrice("12.345")).toEqual({ value: null, error: "At most 2 decimals" });
  });

  it("refuse negatives, text and amounts the API cannot store", () => {
    expect(parsePrice("-1").error).toBe("Price cannot be negative");
    expect(parsePrice("abc").value).toBeNull();
    expect(parsePrice("1e3").value).toBeNull();
    expect(parsePrice("100000000").error).toBe("Price is too large");
    expect(parsePrice("99999999.99").value).toBe(99999999.99);
    expect(parsePrice("").error).toBe("Enter a price");
  });
});

describe("clock times", () => {
  it("are HH:MM within a day", () => {
    expect(parseClock("06:30").value).toBe("06:30");
    expect(parseClock("6:30").value).toBe("06:30");
    expect(parseClock("24:00").value).toBeNull();
    expect(parseClock("12:60").value).toBeNull();
    expect(parseClock("noon").value).toBeNull();
    expect(parseClock(null).value).toBeNull();
  });
});
