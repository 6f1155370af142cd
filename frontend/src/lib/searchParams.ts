// The search lives in the URL (`/?from=&to=&date=&seats=&sort=&stops=&after=&before=&maxh=`): a
// reload, back/forward and a shared link all show the same search, filters and order. This module
// is the one place that reads and writes those keys; a value that is not valid is left out (the
// API would refuse it), so a hand-edited link never sends a request the form could not.
import type { SearchQuery } from "../types";
import { parseClock, parseWholeNumber } from "./numeric";
import { addDays, today } from "./time";

export const SORT_KEYS = ["price", "duration", "departure", "arrival"] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** Limits of the API (GET /api/v1/search): max_stops 0–2, max_duration_minutes 1–4320 (72 h). */
export const MAX_STOPS = 2;
export const MAX_DURATION_HOURS = 72;
export const PASSENGERS = { min: 1, max: 9, unit: "passengers" } as const;

export interface SearchFilters {
  /** At most this many stops; null: any. */
  maxStops: number | null;
  /** First departure at or after this local time (HH:MM at the first airport); null: any. */
  departAfter: string | null;
  /** First departure at or before this local time; null: any. */
  departBefore: string | null;
  /** Whole trip at most this many hours, first departure to last arrival; null: any. */
  maxHours: number | null;
}

export interface SearchState {
  source: string;
  destination: string;
  date: string;
  seats: number;
  sort: SortKey;
  filters: SearchFilters;
}

export const NO_FILTERS: SearchFilters = { maxStops: null, departAfter: null, departBefore: null, maxHours: null };

const KEYS = { stops: "stops", after: "after", before: "before", maxHours: "maxh", sort: "sort" } as const;

export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const t = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === value;
}

export function readSort(url: URLSearchParams): SortKey {
  const value = url.get(KEYS.sort);
  return SORT_KEYS.includes(value as SortKey) ? (value as SortKey) : "price";
}

export function readFilters(url: URLSearchParams): SearchFilters {
  const stops = parseWholeNumber(url.get(KEYS.stops) ?? "", { min: 0, max: MAX_STOPS });
  const after = parseClock(url.get(KEYS.after));
  const before = parseClock(url.get(KEYS.before));
  const hours = parseWholeNumber(url.get(KEYS.maxHours) ?? "", { min: 1, max: MAX_DURATION_HOURS });
  return { maxStops: stops.value, departAfter: after.value, departBefore: before.value, maxHours: hours.value };
}

/** The search a URL asks for, or null when it names none (or one the API would refuse). */
export function readSearch(url: URLSearchParams): SearchState | null {
  const source = url.get("from")?.trim() ?? "";
  const destination = url.get("to")?.trim() ?? "";
  const date = url.get("date") ?? "";
  const seats = parseWholeNumber(url.get("seats") ?? "1", PASSENGERS);
  if (!source || !destination || !isIsoDate(date) || seats.value === null) return null;
  return { source, destination, date, seats: seats.value, sort: readSort(url), filters: readFilters(url) };
}

export function hasFilters(filters: SearchFilters): boolean {
  return Object.values(filters).some((v) => v !== null);
}

/** The URL of a search: keys in a fixed order, defaults (sort by price, no filter) left out. */
export function writeSearch(state: SearchState): URLSearchParams {
  const url = new URLSearchParams({
    from: state.source,
    to: state.destination,
    date: state.date,
    seats: String(state.seats),
  });
  if (state.sort !== "price") url.set(KEYS.sort, state.sort);
  const { maxStops, departAfter, departBefore, maxHours } = state.filters;
  if (maxStops !== null) url.set(KEYS.stops, String(maxStops));
  if (departAfter !== null) url.set(KEYS.after, departAfter);
  if (departBefore !== null) url.set(KEYS.before, departBefore);
  if (maxHours !== null) url.set(KEYS.maxHours, String(maxHours));
  return url;
}

/** The API's query for a search (GET /api/v1/search). */
export function toApiQuery(state: SearchState): SearchQuery {
  const query: SearchQuery = {
    source: state.source,
    destination: state.destination,
    date: state.date,
    seats: state.seats,
  };
  if (state.sort !== "price") query.sort = state.sort;
  const { maxStops, departAfter, departBefore, maxHours } = state.filters;
  if (maxStops !== null) query.max_stops = maxStops;
  if (departAfter !== null) query.depart_after = departAfter;
  if (departBefore !== null) query.depart_before = departBefore;
  if (maxHours !== null) query.max_duration_minutes = maxHours * 60;
  return query;
}

/** "Depart before" earlier than "depart after" matches nothing: the form says so instead. */
export function windowError(filters: SearchFilters): string | null {
  const { departAfter, departBefore } = filters;
  return departAfter !== null && departBefore !== null && departBefore < departAfter
    ? "“Before” must not be earlier than “after”"
    : null;
}

/**
 * The first date worth offering: the date is the departure's local date at the source airport,
 * which can be a day behind the browser's, so yesterday stays selectable.
 */
export function earliestSearchDate(now: Date = new Date()): string {
  return addDays(today(Intl.DateTimeFormat().resolvedOptions().timeZone, now), -1);
}
