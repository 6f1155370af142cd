import { Alert, Button, Center, Loader, Skeleton, Stack, Text, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { IconAlertCircle } from "@tabler/icons-react";
import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";

import FlightResults from "../components/FlightResults";
import NearbyDates from "../components/NearbyDates";
import PriceCalendarMonth from "../components/PriceCalendarMonth";
import PriceCalendarStrip from "../components/PriceCalendarStrip";
import SearchFilters from "../components/SearchFilters";
import SearchForm from "../components/SearchForm";
import ReturnDateField from "../components/orders/ReturnDateField";
import ReturnStep from "../components/orders/ReturnStep";
import { afterChoosing } from "../lib/orders";
import {
  earliestSearchDate,
  hasFilters,
  NO_FILTERS,
  readSearch,
  toApiQuery,
  windowError,
  writeSearch,
  type SearchFilters as Filters,
  type SearchState,
  type SortKey,
} from "../lib/searchParams";
import * as api from "../services/api";
import { errorMessage } from "../services/errors";
import { useTimezoneLookup } from "../services/hooks";
import type { Itinerary, SearchParams } from "../types";

export default function HomePage() {
  const [url, setUrl] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const timezoneOf = useTimezoneLookup();
  // The search, its order and filters live in the URL: reload, back and a shared link show the same.
  const search = readSearch(url);
  // With a return date and the outbound chosen (both in the URL), the results are the return's:
  // the route reversed on the return date, under the same filters and sort.
  const returnDate = url.get("return") ?? "";
  const choosingReturn = search !== null && returnDate !== "" && url.has("out");
  const shownSearch: SearchState | null =
    search && choosingReturn
      ? { ...search, source: search.destination, destination: search.source, date: returnDate }
      : search;
  const query = shownSearch && windowError(shownSearch.filters) === null ? toApiQuery(shownSearch) : null;
  // The form refused what was typed: what is on screen would answer another question, so it goes.
  const [refused, setRefused] = useState(false);
  const [monthOpen, setMonthOpen] = useState(false);
  const earliest = earliestSearchDate();

  const results = useQuery({
    queryKey: ["search", "results", query],
    queryFn: () => api.search(query!),
    enabled: query !== null,
    staleTime: 15_000,
  });

  // The trip's own keys (return date, chosen outbound) ride along with a search's URL.
  const go = (next: SearchState, replace = false, trip: { return?: string; out?: string } = {}) => {
    setRefused(false);
    const nextUrl = writeSearch(next);
    if (trip.return && trip.return >= next.date) nextUrl.set("return", trip.return);
    if (trip.out && nextUrl.has("return")) nextUrl.set("out", trip.out);
    if (nextUrl.toString() === url.toString()) {
      // The same search again: a new request, and the old answer leaves the screen while it runs.
      void queryClient.resetQueries({ queryKey: ["search", "results", query], exact: true });
    } else {
      setUrl(nextUrl, { replace });
    }
  };

  const out = url.get("out") ?? undefined;
  // A new search starts the trip again: the return date stays, the chosen outbound goes.
  const onSearch = (next: SearchParams) =>
    go({ ...next, sort: search?.sort ?? "price", filters: search?.filters ?? NO_FILTERS }, false, {
      return: returnDate,
    });
  // Sort and filter changes replace the history entry: back leaves the search, not each click.
  const onRefine = (sort: SortKey, filters: Filters) =>
    search && go({ ...search, sort, filters }, true, { return: returnDate, out });
  // A date picked while choosing the return is the return's date.
  const onPickDate = (date: string) =>
    search &&
    (choosingReturn
      ? go(search, false, { return: date, out })
      : go({ ...search, date }, false, { return: returnDate }));

  const onSelect = (itinerary: Itinerary) => {
    const next = afterChoosing(url, itinerary.flights.map((f) => f.id));
    if ("home" in next) {
      setUrl(next.home);
      window.scrollTo({ top: 0 });
    } else navigate(next.passengers);
  };

  const onReturnDateChange = (value: string) => {
    const next = new URLSearchParams(url);
    if (value) next.set("return", value);
    else next.delete("return");
    next.delete("out");
    setUrl(next, { replace: true });
  };

  const shown = shownSearch !== null && !refused;
  const route = shownSearch
    ? { source: shownSearch.source, destination: shownSearch.destination, seats: shownSearch.seats }
    : null;

  return (
    <Stack gap="lg" py="md">
      {!search && (
        <Stack gap={4}>
          <Title order={1} size="h2">
            Where to next?
          </Title>
          <Text c="dimmed">Live fares and seats on direct and connecting flights.</Text>
        </Stack>
      )}
      <SearchForm
        initial={search ?? undefined}
        onSearch={onSearch}
        onInvalid={() => setRefused(true)}
        searching={results.isFetching}
      />
      <ReturnDateField value={returnDate} departure={search?.date ?? null} onChange={onReturnDateChange} />
      {choosingReturn && search && <ReturnStep search={search} returnDate={returnDate} />}

      {shown && route && (
        <>
          <PriceCalendarStrip
            route={route}
            date={shownSearch.date}
            earliest={earliest}
            onPick={onPickDate}
            onOpenMonth={() => setMonthOpen(true)}
          />
          <PriceCalendarMonth
            opened={monthOpen}
            onClose={() => setMonthOpen(false)}
            route={route}
            date={shownSearch.date}
            earliest={earliest}
            onPick={onPickDate}
          />
          <SearchFilters sort={shownSearch.sort} filters={shownSearch.filters} onChange={onRefine} />
        </>
      )}

      {shown && query && results.isPending && (
        <Stack gap="sm" data-testid="results-loading" aria-busy="true">
          <Center>
            <Loader size="sm" aria-label="Searching" />
          </Center>
          {[0, 1, 2].map((i) => (
            <Skeleton key={i} height={120} radius="md" />
          ))}
        </Stack>
      )}

      {shown && results.isError && (
        <Alert color="red" icon={<IconAlertCircle />} title="Search failed" data-testid="results-error" role="alert">
          <Stack gap="xs" align="flex-start">
            <Text size="sm">{errorMessage(results.error)}</Text>
            <Button size="xs" variant="white" color="red" onClick={() => void results.refetch()}>
              Try again
            </Button>
          </Stack>
        </Alert>
      )}

      {shown && route && results.data && results.data.length === 0 && (
        <NearbyDates
          route={route}
          date={shownSearch.date}
          earliest={earliest}
          filtered={hasFilters(shownSearch.filters)}
          onPick={onPickDate}
          onClearFilters={() => onRefine(shownSearch.sort, NO_FILTERS)}
        />
      )}

      {shown && results.data && results.data.length > 0 && (
        <FlightResults itineraries={results.data} seats={shownSearch.seats} timezoneOf={timezoneOf} onSelect={onSelect} />
      )}
    </Stack>
  );
}
