import { Alert, Button, Center, Loader, Paper, Skeleton, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { IconAlertCircle, IconPlaneOff } from "@tabler/icons-react";
import { useNavigate, useSearchParams } from "react-router-dom";

import FlightResults from "../components/FlightResults";
import SearchForm from "../components/SearchForm";
import ReturnDateField from "../components/orders/ReturnDateField";
import ReturnStep from "../components/orders/ReturnStep";
import { afterChoosing, sliceSearch } from "../lib/orders";
import * as api from "../services/api";
import { errorMessage } from "../services/errors";
import { useTimezoneLookup } from "../services/hooks";
import type { SortKey } from "../lib/itinerary";
import type { Itinerary, SearchParams } from "../types";

function paramsFrom(url: URLSearchParams): SearchParams | null {
  const source = url.get("from");
  const destination = url.get("to");
  const date = url.get("date");
  const seats = Number(url.get("seats") ?? "1");
  if (!source || !destination || !date) return null;
  return { source, destination, date, seats: Number.isInteger(seats) && seats >= 1 && seats <= 9 ? seats : 1 };
}

export default function HomePage() {
  const [url, setUrl] = useSearchParams();
  const navigate = useNavigate();
  const searched = paramsFrom(url);
  // With a return date and the outbound chosen (both in the URL), the results are the return's.
  const returnDate = url.get("return") ?? "";
  const choosingReturn = searched !== null && returnDate !== "" && url.has("out");
  const params = searched && choosingReturn ? sliceSearch({ ...searched, returnDate }, "ret") : searched;
  const sort: SortKey = url.get("sort") === "duration" ? "duration" : "price";
  const timezoneOf = useTimezoneLookup();

  const results = useQuery({
    queryKey: ["search", params],
    queryFn: () => api.search(params!),
    enabled: params !== null,
    staleTime: 15_000,
  });

  // Search parameters live in the URL: reload, back and a shared link all show the same search.
  const onSearch = (next: SearchParams) => {
    const query = new URLSearchParams({ from: next.source, to: next.destination, date: next.date, seats: String(next.seats) });
    if (sort !== "price") query.set("sort", sort);
    if (returnDate && returnDate >= next.date) query.set("return", returnDate);
    if (query.toString() === url.toString()) void results.refetch();
    else setUrl(query);
  };

  const onSortChange = (next: SortKey) => {
    const query = new URLSearchParams(url);
    if (next === "price") query.delete("sort");
    else query.set("sort", next);
    setUrl(query, { replace: true });
  };

  const onSelect = (itinerary: Itinerary) => {
    const next = afterChoosing(url, itinerary.flights.map((f) => f.id));
    if ("home" in next) {
      setUrl(next.home);
      window.scrollTo({ top: 0 });
    } else navigate(next.passengers);
  };

  const onReturnDateChange = (value: string) => {
    const query = new URLSearchParams(url);
    if (value) query.set("return", value);
    else query.delete("return");
    query.delete("out");
    setUrl(query, { replace: true });
  };

  return (
    <Stack gap="lg" py="md">
      {!params && (
        <Stack gap={4}>
          <Title order={1} size="h2">
            Where to next?
          </Title>
          <Text c="dimmed">Live fares and seats on direct and connecting flights.</Text>
        </Stack>
      )}
      <SearchForm
        initial={searched ?? undefined}
        onSearch={onSearch}
        searching={results.isFetching}
      />
      <ReturnDateField value={returnDate} departure={searched?.date ?? null} onChange={onReturnDateChange} />
      {choosingReturn && searched && <ReturnStep search={searched} returnDate={returnDate} />}

      {params && results.isPending && (
        <Stack gap="sm" data-testid="results-loading" aria-busy="true">
          <Center>
            <Loader size="sm" aria-label="Searching" />
          </Center>
          {[0, 1, 2].map((i) => (
            <Skeleton key={i} height={120} radius="md" />
          ))}
        </Stack>
      )}

      {params && results.isError && (
        <Alert color="red" icon={<IconAlertCircle />} title="Search failed" data-testid="results-error" role="alert">
          <Stack gap="xs" align="flex-start">
            <Text size="sm">{errorMessage(results.error)}</Text>
            <Button size="xs" variant="white" color="red" onClick={() => void results.refetch()}>
              Try again
            </Button>
          </Stack>
        </Alert>
      )}

      {params && results.data && results.data.length === 0 && (
        <Paper withBorder p="xl" data-testid="results-empty">
          <Stack align="center" gap="xs">
            <IconPlaneOff size={40} color="var(--mantine-color-gray-5)" aria-hidden />
            <Title order={3} size="h4">
              No flights found
            </Title>
            <Text c="dimmed" ta="center" size="sm">
              Nothing from {params.source} to {params.destination} on {params.date}
              {params.seats > 1 ? ` with ${params.seats} seats free` : ""}. Try another date or fewer passengers.
            </Text>
          </Stack>
        </Paper>
      )}

      {params && results.data && results.data.length > 0 && (
        <FlightResults
          itineraries={results.data}
          seats={params.seats}
          sort={sort}
          onSortChange={onSortChange}
          timezoneOf={timezoneOf}
          onSelect={onSelect}
        />
      )}
    </Stack>
  );
}
