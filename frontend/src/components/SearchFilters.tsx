import { Button, Grid, NativeSelect, Paper, SegmentedControl, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedCallback, useMediaQuery } from "@mantine/hooks";
import { IconFilterOff } from "@tabler/icons-react";
import { useState } from "react";

import { parseOptionalWholeNumber } from "../lib/numeric";
import {
  hasFilters,
  MAX_DURATION_HOURS,
  NO_FILTERS,
  windowError,
  type SearchFilters as Filters,
  type SortKey,
} from "../lib/searchParams";

interface Props {
  sort: SortKey;
  filters: Filters;
  onChange: (sort: SortKey, filters: Filters) => void;
}

export const SORT_OPTIONS: { value: SortKey; label: string }[] = [
  { value: "price", label: "Cheapest" },
  { value: "duration", label: "Fastest" },
  { value: "departure", label: "Leaves first" },
  { value: "arrival", label: "Lands first" },
];

const STOPS_OPTIONS = [
  { value: "", label: "Any number of stops" },
  { value: "0", label: "Non-stop only" },
  { value: "1", label: "Up to 1 stop" },
  { value: "2", label: "Up to 2 stops" },
];

const HOURS = { min: 1, max: MAX_DURATION_HOURS, unit: "hours" } as const;

/**
 * Sort order and filters of the results. The server sorts and filters (the answer is the first 20
 * of all itineraries under them, not a re-sort of the 20 cheapest); every choice goes to the URL
 * through onChange. A value the API would refuse is shown as an error here and never sent.
 */
export default function SearchFilters({ sort, filters, onChange }: Props) {
  // The hours field is typed: it keeps its text, which is only applied once it is a valid number.
  const [hours, setHours] = useState(filters.maxHours === null ? "" : String(filters.maxHours));
  const [hoursError, setHoursError] = useState<string | null>(null);
  // The URL changed it (back/forward, clear): show the URL's value.
  const [shownHours, setShownHours] = useState(filters.maxHours);
  if (shownHours !== filters.maxHours) {
    setShownHours(filters.maxHours);
    setHours(filters.maxHours === null ? "" : String(filters.maxHours));
    setHoursError(null);
  }

  const apply = (next: Partial<Filters>) => onChange(sort, { ...filters, ...next });
  const applyHours = useDebouncedCallback((value: number | null) => apply({ maxHours: value }), 400);
  const onHours = (text: string) => {
    setHours(text);
    const parsed = parseOptionalWholeNumber(text, HOURS);
    setHoursError(parsed.error);
    if (parsed.error === null && parsed.value !== filters.maxHours) applyHours(parsed.value);
  };
  const windowProblem = windowError(filters);
  // Four orders side by side fit a phone only in the small size (equal widths would cut the labels).
  const narrow = useMediaQuery("(max-width: 35.99em)", false, { getInitialValueInEffect: false });

  return (
    <Paper withBorder p="sm" data-testid="search-filters" component="section" aria-label="Sort and filter">
      <Stack gap="sm">
        <Stack gap={4}>
          <Text size="sm" fw={500} id="sort-label">
            Sort by
          </Text>
          <SegmentedControl
            size={narrow ? "xs" : "sm"}
            w="fit-content"
            maw="100%"
            aria-labelledby="sort-label"
            value={sort}
            onChange={(value) => onChange(value as SortKey, filters)}
            data={SORT_OPTIONS}
            data-testid="sort"
          />
        </Stack>
        <Grid gap="sm" align="flex-start">
          <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
            <NativeSelect
              label="Stops"
              data={STOPS_OPTIONS}
              value={filters.maxStops === null ? "" : String(filters.maxStops)}
              onChange={(e) => apply({ maxStops: e.currentTarget.value === "" ? null : Number(e.currentTarget.value) })}
              data-testid="filter-stops"
            />
          </Grid.Col>
          <Grid.Col span={{ base: 6, md: 3 }}>
            <TextInput
              type="time"
              label="Departs after"
              value={filters.departAfter ?? ""}
              onChange={(e) => apply({ departAfter: e.currentTarget.value || null })}
              error={windowProblem !== null}
              data-testid="filter-after"
            />
          </Grid.Col>
          <Grid.Col span={{ base: 6, md: 3 }}>
            <TextInput
              type="time"
              label="Departs before"
              value={filters.departBefore ?? ""}
              onChange={(e) => apply({ departBefore: e.currentTarget.value || null })}
              error={windowProblem}
              data-testid="filter-before"
            />
          </Grid.Col>
          <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
            <TextInput
              label="Max trip length (hours)"
              placeholder="Any"
              inputMode="numeric"
              autoComplete="off"
              value={hours}
              onChange={(e) => onHours(e.currentTarget.value)}
              error={hoursError}
              data-testid="filter-max-hours"
            />
          </Grid.Col>
        </Grid>
        {(hasFilters(filters) || hours !== "") && (
          <Button
            variant="subtle"
            size="xs"
            w="fit-content"
            leftSection={<IconFilterOff size={14} />}
            onClick={() => {
              applyHours.cancel();
              setHours("");
              setHoursError(null);
              onChange(sort, NO_FILTERS);
            }}
            data-testid="clear-filters"
          >
            Clear filters
          </Button>
        )}
      </Stack>
    </Paper>
  );
}
