import { useQueries } from "@tanstack/react-query";

import { indexByDate } from "../lib/calendar";
import type { CalendarDay } from "../types";
import * as api from "./api";

export interface CalendarRoute {
  source: string;
  destination: string;
  seats: number;
}

/** The query key of one month's prices: under "search", so whatever refreshes search refreshes it. */
export function calendarKey(route: CalendarRoute, month: string) {
  return ["search", "calendar", route.source, route.destination, route.seats, month] as const;
}

export interface PriceCalendar {
  byDate: Map<string, CalendarDay>;
  /** Some month is still loading (its days are unknown, not empty). */
  loading: boolean;
  /** Some month could not be read. */
  failed: boolean;
}

/** The price calendar of the given months (one request per month, cached a minute). */
export function usePriceCalendar(route: CalendarRoute | null, months: string[]): PriceCalendar {
  const results = useQueries({
    queries: months.map((month) => ({
      queryKey: route ? calendarKey(route, month) : ["search", "calendar", "none", month],
      queryFn: () => api.searchCalendar({ ...route!, month }),
      enabled: route !== null,
      staleTime: 60_000,
    })),
  });
  // At most three months of 31 days: indexing them again on each render costs nothing worth caching.
  const byDate = indexByDate(results.map((r) => r.data));
  const loading = results.some((r) => r.isPending && r.fetchStatus !== "idle");
  const failed = results.some((r) => r.isError);
  return { byDate, loading, failed };
}
