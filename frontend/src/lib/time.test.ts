import { describe, expect, it } from "vitest";

import { dayOffset, formatDuration, formatTime, localDate, makeTimezoneLookup, utcToZoned, zonedToUtc, zoneLabel } from "./time";

describe("times are shown in the airport's zone", () => {
  it("formats a UTC instant as Indian local time", () => {
    expect(formatTime("2027-01-05T00:30:00Z", "Asia/Kolkata")).toBe("06:00");
  });

  it("knows the seed's Indian cities and falls back to UTC for others", () => {
    const zoneOf = makeTimezoneLookup({ Dubai: "Asia/Dubai" });
    expect(zoneOf("Delhi")).toBe("Asia/Kolkata");
    expect(zoneOf("Dubai")).toBe("Asia/Dubai");
    expect(zoneOf("Atlantis")).toBe("UTC");
  });

  it("counts an overnight arrival as +1 day in the arrival's zone", () => {
    // 23:00 IST departure, 01:30 IST arrival the next day
    expect(dayOffset("2027-01-05T17:30:00Z", "Asia/Kolkata", "2027-01-05T20:00:00Z", "Asia/Kolkata")).toBe(1);
    expect(dayOffset("2027-01-05T00:30:00Z", "Asia/Kolkata", "2027-01-05T02:40:00Z", "Asia/Kolkata")).toBe(0);
  });

  it("gives the local date of an instant", () => {
    expect(localDate("2027-01-04T19:00:00Z", "Asia/Kolkata")).toBe("2027-01-05");
    expect(localDate("2027-01-04T19:00:00Z", "UTC")).toBe("2027-01-04");
  });
});

describe("an admin's local wall-clock time becomes UTC", () => {
  it("converts Indian time (no DST)", () => {
    expect(zonedToUtc("2027-01-05T06:00", "Asia/Kolkata")).toBe("2027-01-05T00:30:00Z");
  });

  it("handles both sides of a DST change", () => {
    expect(zonedToUtc("2027-01-15T09:00", "America/New_York")).toBe("2027-01-15T14:00:00Z");
    expect(zonedToUtc("2027-07-15T09:00", "America/New_York")).toBe("2027-07-15T13:00:00Z");
  });

  it("round-trips through the datetime-local value", () => {
    const iso = zonedToUtc("2027-03-28T03:30", "Europe/London"); // the first morning of BST
    expect(iso).toBe("2027-03-28T02:30:00Z");
    expect(utcToZoned(iso, "Europe/London")).toBe("2027-03-28T03:30");
    expect(utcToZoned("2027-01-05T00:30:00Z", "Asia/Kolkata")).toBe("2027-01-05T06:00");
  });

  it("rejects text that is not a local date-time", () => {
    expect(() => zonedToUtc("tomorrow", "UTC")).toThrow();
  });
});

describe("durations", () => {
  it.each([
    [45, "45m"],
    [60, "1h"],
    [315, "5h 15m"],
  ])("%i minutes read as %s", (minutes, text) => {
    expect(formatDuration(minutes)).toBe(text);
  });
});

describe("zoneLabel", () => {
  it("names a zone by its abbreviation at the instant, else by its offset", () => {
    expect(zoneLabel("Asia/Kolkata")).toBe("IST");
    expect(zoneLabel("America/New_York", "2027-01-05T12:00:00Z")).toBe("EST");
    expect(zoneLabel("America/New_York", "2027-07-05T12:00:00Z")).toBe("EDT");
    expect(zoneLabel("Europe/London", "2027-07-05T12:00:00Z")).toBe("BST");
    expect(zoneLabel("Pacific/Auckland", "2027-01-05T12:00:00Z")).toBe("NZDT");
    expect(zoneLabel("Australia/Adelaide", "2027-01-05T12:00:00Z")).toBe("ACDT");
    expect(zoneLabel("Pacific/Apia", "2027-01-05T12:00:00Z")).toMatch(/^GMT\+13/);
  });
});
