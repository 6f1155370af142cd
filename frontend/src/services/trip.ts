// The chosen itineraries, rebuilt from the URL: the same public search that showed them is run
// again (with the filters it was shown under) and the itinerary with the chosen flight ids is
// picked. An itinerary that is no longer offered (sold out, departed, inside the booking cut-off)
// is reported as gone rather than booked from a stale copy.
import { useQueries } from "@tanstack/react-query";

import { sliceSearch, type TripSelection } from "../lib/orders";
import type { Itinerary, SearchParams } from "../types";
import * as api from "./api";

export interface TripItineraries {
  loading: boolean;
  error: unknown;
  /** One per slice (outbound, then the return), null where the itinerary is no longer offered. */
  slices: (Itinerary | null)[];
  refetch: () => void;
}

function searchParamsFor(selection: TripSelection, slice: "out" | "ret"): SearchParams {
  const base = sliceSearch(selection, slice);
  // Filters the results were chosen under (search-ui's max_stops, times, sort...) are passed on as-is.
  const extra = Object.fromEntries(selection.extra);
  return { ...extra, ...base } as SearchParams;
}

export function useTripItineraries(selection: TripSelection | null): TripItineraries {
  const slices: { slice: "out" | "ret"; ids: string[] }[] = [];
  if (selection) {
    slices.push({ slice: "out", ids: selection.outbound });
    if (selection.returnDate && selection.inbound) slices.push({ slice: "ret", ids: selection.inbound });
  }
  const results = useQueries({
    queries: slices.map(({ slice }) => {
      const params = selection ? searchParamsFor(selection, slice) : null;
      return {
        queryKey: ["search", params],
        queryFn: () => api.search(params!),
        enabled: params !== null,
        staleTime: 15_000,
      };
    }),
  });
  return {
    loading: results.some((r) => r.isPending),
    error: results.find((r) => r.isError)?.error ?? null,
    slices: slices.map(({ ids }, index) => {
      const found = results[index]?.data?.find(
        (itinerary) => itinerary.flights.length === ids.length && itinerary.flights.every((f, i) => f.id === ids[i]),
      );
      return found ?? null;
    }),
    refetch: () => {
      for (const r of results) void r.refetch();
    },
  };
}
