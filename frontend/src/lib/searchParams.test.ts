import { describe, expect, it } from "vitest";

import {
  earliestSearchDate,
  hasFilters,
  isIsoDate,
  NO_FILTERS,
  readFilters,
  readSearch,
  readSort,
  toApiQuery,
  windowError,
  writeSearch,
  type SearchState,
} from "./searchParams";

const base: SearchState = {
  source: "Delhi",
  destination: "Goa",
  date: "2027-01-05",
  seats: 2,
  sort: "price",
  filters: NO_FILTERS,
};

describe("the search in the URL", () => {
  it("is written with defaults left out, and read back the same", () => {
    const url = writeSearch(base);
    expect(url.toString()).toBe("from=Delhi&to=Goa&date=2027-01-05&seats=2");
    expect(readSearch(url)).toEqual(base);
  });

  it("holds the sort and every filter, and a reload reads them all back", () => {
    const state: SearchState = {
      ...base,
      sort: "duration",
      filters: { maxStops: 0, departAfter: "06:00", departBefore: "12:30", maxHours: 5 },
    };
    const url = writeSearch(state);
    expect(url.toString()).toBe(
      "from=Delhi&to=Goa&date=2027-01-05&seats=2&sort=duration&stops=0&after=06%3A00&before=12%3A30&maxh=5",
    );
    expect(readSearch(new URLSearchParams(url.toString()))).toEqual(state);
  });

  it("names no search without both airports and a real date", () => {
    expect(readSearch(new URLSearchParams("from=Delhi&date=2027-01-05"))).toBeNull();
    expect(readSearch(new URLSearchParams("from=Delhi&to=Goa&date=2027-02-30"))).toBeNull();
    expect(readSearch(new URLSearchParams("from=Delhi&to=Goa&date=tomorrow"))).toBeNull();
    expect(readSearch(new URLSearchParams("from=%20&to=Goa&date=2027-01-05"))).toBeNull();
  });

  it("runs no search for a passenger count the API would refuse (500 is not read as 5, 9 or 1)", () => {
    expect(readSearch(new URLSearchParams("from=Delhi&to=Goa&date=2027-01-05&seats=500"))).toBeNull();
    expect(readSearch(new URLSearchParams("from=Delhi&to=Goa&date=2027-01-05&seats=1.5"))).toBeNull();
    expect(readSearch(new URLSearchParams("from=Delhi&to=Goa&date=2027-01-05"))?.seats).toBe(1);
  });

  it("leaves out a filter or sort the API would refuse", () => {
    const url = new URLSearchParams("sort=random&stops=3&after=25:00&before=7pm&maxh=100");
    expect(readSort(url)).toBe("price");
    expect(readFilters(url)).toEqual(NO_FILTERS);
    expect(readFilters(new URLSearchParams("stops=2&maxh=72"))).toEqual({ ...NO_FILTERS, maxStops: 2, maxHours: 72 });
    expect(readSort(new URLSearchParams("sort=arrival"))).toBe("arrival");
  });

  it("says whether any filter is set", () => {
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, maxStops: 0 })).toBe(true);
  });
});

describe("the API query of a search", () => {
  it("sends only what differs from the API's defaults", () => {
    expect(toApiQuery(base)).toEqual({ source: "Delhi", destination: "Goa", date: "2027-01-05", seats: 2 });
  });

  it("sends the sort and filters, the trip length in minutes", () => {
    const query = toApiQuery({
      ...base,
      sort: "arrival",
      filters: { maxStops: 1, departAfter: "05:00", departBefore: "23:59", maxHours: 12 },
    });
    expect(query).toEqual({
      source: "Delhi",
      destination: "Goa",
      date: "2027-01-05",
      seats: 2,
      sort: "arrival",
      max_stops: 1,
      depart_after: "05:00",
      depart_before: "23:59",
      max_duration_minutes: 720,
    });
  });

  it("is not made for a departure window that ends before it starts", () => {
    expect(windowError({ ...NO_FILTERS, departAfter: "12:00", departBefore: "08:00" })).not.toBeNull();
    expect(windowError({ ...NO_FILTERS, departAfter: "08:00", departBefore: "08:00" })).toBeNull();
  });
});

describe("dates", () => {
  it("are real calendar dates", () => {
    expect(isIsoDate("2028-02-29")).toBe(true);
    expect(isIsoDate("2027-02-29")).toBe(false);
    expect(isIsoDate("2027-1-5")).toBe(false);
  });

  it("can be searched from yesterday on (a source airport's day may be behind the browser's)", () => {
    const now = new Date();
    const earliest = earliestSearchDate(now);
    expect(Date.parse(`${earliest}T00:00:00Z`)).toBeLessThan(now.getTime());
    expect(now.getTime() - Date.parse(`${earliest}T00:00:00Z`)).toBeLessThan(3 * 86_400_000);
  });
});
