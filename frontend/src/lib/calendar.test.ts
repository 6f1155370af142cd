import { describe, expect, it } from "vitest";

import type { CalendarDay } from "../types";
import {
  cheapestDates,
  daysAround,
  formatPriceShort,
  indexByDate,
  monthGrid,
  monthsCovering,
  nearbyDates,
  shiftMonth,
} from "./calendar";

const day = (date: string, min_price: number | null = null, stops: number | null = null): CalendarDay => ({
  date,
  min_price,
  stops: min_price === null ? null : (stops ?? 0),
});

describe("the calendar strip", () => {
  it("shows three days either side of the date", () => {
    expect(daysAround("2027-01-05", 3)).toEqual([
      "2027-01-02",
      "2027-01-03",
      "2027-01-04",
      "2027-01-05",
      "2027-01-06",
      "2027-01-07",
      "2027-01-08",
    ]);
  });

  it("asks for the one or two months its days fall in", () => {
    expect(monthsCovering(daysAround("2027-01-15", 3))).toEqual(["2027-01"]);
    expect(monthsCovering(daysAround("2027-01-30", 3))).toEqual(["2027-01", "2027-02"]);
    expect(monthsCovering(daysAround("2027-01-01", 3))).toEqual(["2026-12", "2027-01"]);
  });

  it("moves between months across years", () => {
    expect(shiftMonth("2027-01", -1)).toBe("2026-12");
    expect(shiftMonth("2026-12", 1)).toBe("2027-01");
    expect(shiftMonth("2027-05", 14)).toBe("2028-07");
  });
});

describe("the month view", () => {
  it("lays a month out in weeks from Monday", () => {
    const weeks = monthGrid("2027-02"); // 1 February 2027 is a Monday; 28 days
    expect(weeks).toHaveLength(4);
    expect(weeks[0]![0]).toBe("2027-02-01");
    const march = monthGrid("2027-03"); // a Monday too, 31 days: five weeks, padded after the 31st
    expect(march).toHaveLength(5);
    expect(march[4]).toEqual(["2027-03-29", "2027-03-30", "2027-03-31", null, null, null, null]);
    const may = monthGrid("2027-05"); // 1 May 2027 is a Saturday
    expect(may[0]).toEqual([null, null, null, null, null, "2027-05-01", "2027-05-02"]);
    expect(may.every((w) => w.length === 7)).toBe(true);
  });

  it("marks the cheapest days, ties included, and none when nothing flies", () => {
    const days = [day("2027-01-01", 5000), day("2027-01-02", 3000), day("2027-01-03"), day("2027-01-04", 3000)];
    expect(cheapestDates(days)).toEqual(new Set(["2027-01-02", "2027-01-04"]));
    expect(cheapestDates(days, "2027-01-03")).toEqual(new Set(["2027-01-04"]));
    expect(cheapestDates([day("2027-01-01"), day("2027-01-02")]).size).toBe(0);
  });

  it("fits prices in a phone-width cell", () => {
    expect(formatPriceShort(950)).toBe("₹950");
    expect(formatPriceShort(4500)).toBe("₹4.5K");
    expect(formatPriceShort(150000)).toBe("₹1.5L");
  });
});

describe("nearby dates on an empty day", () => {
  const byDate = indexByDate([
    [day("2027-01-01", 4000), day("2027-01-03"), day("2027-01-04", 9000), day("2027-01-05"), day("2027-01-06")],
    [day("2027-01-07", 6000), day("2027-01-09", 3000), day("2027-01-20", 1000)],
  ]);

  it("are the days nearest the date that have flights, in date order (the earlier wins a tie)", () => {
    // 4th: 1 day away, 7th: 2, then the 1st and the 9th both 4: the 1st.
    expect(nearbyDates(byDate, "2027-01-05", "2026-12-31", 3).map((d) => d.date)).toEqual([
      "2027-01-01",
      "2027-01-04",
      "2027-01-07",
    ]);
  });

  it("never include past days or the day itself", () => {
    const dates = nearbyDates(byDate, "2027-01-04", "2027-01-02").map((d) => d.date);
    expect(dates).toEqual(["2027-01-07", "2027-01-09", "2027-01-20"]);
  });

  it("are none when nothing flies", () => {
    expect(nearbyDates(indexByDate([[day("2027-01-01"), day("2027-01-02")]]), "2027-01-01", "2026-01-01")).toEqual([]);
  });
});
