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
import { saveSelection } from "../lib/selection";
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
  const query = search && windowError(search.filters) === null ? toApiQuery(search) : null;
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

  const go = (next: SearchState, replace = false) => {
    setRefused(false);
    const nextUrl = writeSearch(next);
    if (nextUrl.toString() === url.toString()) {
      // The same search again: a new request, and the old answer leaves the screen while it runs.
      void queryClient.resetQueries({ queryKey: ["search", "results", query], exact: true });
    } else {
      setUrl(nextUrl, { replace });
    }
  };

  const onSearch = (next: SearchParams) =>
    go({ ...next, sort: search?.sort ?? "price", filters: search?.filters ?? NO_FILTERS });
  // Sort and filter changes replace the history entry: back leaves the search, not each click.
  const onRefine = (sort: SortKey, filters: Filters) => search && go({ ...search, sort, filters }, true);
  const onPickDate = (date: string) => search && go({ ...search, date });

  const onSelect = (itinerary: Itinerary) => {
    const seats = search?.seats ?? 1;
    saveSelection({ itinerary, seats });
    const ids = itinerary.flights.map((f) => f.id).join(",");
    navigate(`/book?flights=${ids}&seats=${seats}`, { state: { itinerary, seats } });
  };

  const shown = search !== null && !refused;
  const route = search ? { source: search.source, destination: search.destination, seats: search.seats } : null;

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

      {shown && route && (
        <>
          <PriceCalendarStrip
            route={route}
            date={search.date}
            earliest={earliest}
            onPick={onPickDate}
            onOpenMonth={() => setMonthOpen(true)}
          />
          <PriceCalendarMonth
            opened={monthOpen}
            onClose={() => setMonthOpen(false)}
            route={route}
            date={search.date}
            earliest={earliest}
            onPick={onPickDate}
          />
          <SearchFilters sort={search.sort} filters={search.filters} onChange={onRefine} />
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
          date={search.date}
          earliest={earliest}
          filtered={hasFilters(search.filters)}
          onPick={onPickDate}
          onClearFilters={() => onRefine(search.sort, NO_FILTERS)}
        />
      )}

      {shown && results.data && results.data.length > 0 && (
        <FlightResults itineraries={results.data} seats={search.seats} timezoneOf={timezoneOf} onSelect={onSelect} />
      )}
    </Stack>
  );
}
