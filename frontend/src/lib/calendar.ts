// Dates around a search, read from the price calendar (GET /api/v1/search/calendar: one entry per
// day of a month, the cheapest itinerary's price and stops, nulls where nothing flies). Dates are
// plain YYYY-MM-DD strings, the departure's local date at the origin, as search takes them.
import type { CalendarDay } from "../types";
import { addDays } from "./time";

/** "2027-01" of "2027-01-15". */
export function monthOf(date: string): string {
  return date.slice(0, 7);
}

/** The month `n` months after `month` ("2027-01", -1 → "2026-12"). */
export function shiftMonth(month: string, n: number): string {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const index = y * 12 + (m - 1) + n;
  return `${String(Math.floor(index / 12)).padStart(4, "0")}-${String((index % 12) + 1).padStart(2, "0")}`;
}

/** The `radius` days either side of `date`, and `date` itself in the middle. */
export function daysAround(date: string, radius: number): string[] {
  return Array.from({ length: radius * 2 + 1 }, (_, i) => addDays(date, i - radius));
}

/** The distinct months the dates fall in, in order: the calendar requests to make. */
export function monthsCovering(dates: string[]): string[] {
  return [...new Set(dates.map(monthOf))].sort();
}

export function daysInMonth(month: string): number {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Weeks of a month, Monday first; null pads the days before the 1st and after the last. */
export function monthGrid(month: string): (string | null)[][] {
  const first = `${month}-01`;
  const weekday = (new Date(`${first}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const cells: (string | null)[] = Array.from({ length: weekday }, () => null);
  for (let d = 0; d < daysInMonth(month); d += 1) cells.push(addDays(first, d));
  while (cells.length % 7 !== 0) cells.push(null);
  const weeks: (string | null)[][] = [];
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7));
  return weeks;
}

export type PriceByDate = ReadonlyMap<string, CalendarDay>;

export function indexByDate(months: (readonly CalendarDay[] | undefined)[]): Map<string, CalendarDay> {
  const byDate = new Map<string, CalendarDay>();
  for (const days of months) for (const day of days ?? []) byDate.set(day.date, day);
  return byDate;
}

/** A day something flies, with its lowest fare. */
export type PricedDay = CalendarDay & { min_price: number };

export function flies(day: CalendarDay | undefined): day is PricedDay {
  return day !== undefined && day.min_price !== null && day.min_price !== undefined;
}

/** The dates with the lowest price among those given (several when they tie); none when nothing flies. */
export function cheapestDates(days: readonly CalendarDay[], from = ""): Set<string> {
  let best = Number.POSITIVE_INFINITY;
  for (const day of days) if (flies(day) && day.date >= from && day.min_price < best) best = day.min_price;
  return new Set(days.filter((d) => flies(d) && d.date >= from && d.min_price === best).map((d) => d.date));
}

/**
 * Up to `count` dates with flights nearest to `date` (not `date` itself, none before `earliest`),
 * nearest first with earlier winning a tie, then returned in date order for display.
 */
export function nearbyDates(byDate: PriceByDate, date: string, earliest: string, count = 6): PricedDay[] {
  const distance = (d: string) => Math.abs(Date.parse(`${d}T00:00:00Z`) - Date.parse(`${date}T00:00:00Z`));
  const candidates = [...byDate.values()].filter((d): d is PricedDay => flies(d) && d.date !== date && d.date >= earliest);
  candidates.sort((a, b) => distance(a.date) - distance(b.date) || (a.date < b.date ? -1 : 1));
  return candidates.slice(0, count).sort((a, b) => (a.date < b.date ? -1 : 1));
}

const weekdayFormat = new Intl.DateTimeFormat("en-GB", { weekday: "short", timeZone: "UTC" });
const dayMonthFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
const longFormat = new Intl.DateTimeFormat("en-GB", {
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
  timeZone: "UTC",
});
const monthFormat = new Intl.DateTimeFormat("en-GB", { month: "long", year: "numeric", timeZone: "UTC" });

const at = (date: string) => new Date(`${date}T00:00:00Z`);

/** "Tue" */
export function weekdayLabel(date: string): string {
  return weekdayFormat.format(at(date));
}

/** "5 Jan" */
export function dayMonthLabel(date: string): string {
  return dayMonthFormat.format(at(date));
}

/** "Tuesday 5 January 2027" */
export function longDateLabel(date: string): string {
  return longFormat.format(at(date));
}

/** "January 2027" */
export function monthLabel(month: string): string {
  return monthFormat.format(at(`${month}-01`));
}

const compactRupees = new Intl.NumberFormat("en-IN", {
  style: "currency",
  currency: "INR",
  notation: "compact",
  maximumFractionDigits: 1,
});

/** "₹4.5K", "₹1.2L": a price in a calendar cell, where "₹12,345.50" does not fit at phone width. */
export function formatPriceShort(amount: number): string {
  return amount < 1000 ? `₹${Math.round(amount)}` : compactRupees.format(amount);
}
