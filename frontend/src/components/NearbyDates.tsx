import { Button, Group, Loader, Paper, Stack, Text, Title } from "@mantine/core";
import { IconFilterOff, IconPlaneOff } from "@tabler/icons-react";

import { dayMonthLabel, flies, monthOf, nearbyDates, shiftMonth, weekdayLabel } from "../lib/calendar";
import { formatPrice } from "../lib/money";
import { usePriceCalendar, type CalendarRoute } from "../services/calendar";

interface Props {
  route: CalendarRoute;
  date: string;
  earliest: string;
  /** Filters are narrowing the answer (the calendar itself is unfiltered). */
  filtered: boolean;
  onPick: (date: string) => void;
  onClearFilters: () => void;
}

/**
 * What to say when a day has no results: if the calendar shows flights that day, the filters hid
 * them (offer to clear them); otherwise the nearest days with flights, from the calendar of the
 * month before, of and after the date, each a button that searches it.
 */
export default function NearbyDates({ route, date, earliest, filtered, onPick, onClearFilters }: Props) {
  const month = monthOf(date);
  const calendar = usePriceCalendar(route, [shiftMonth(month, -1), month, shiftMonth(month, 1)]);
  const flightsThatDay = flies(calendar.byDate.get(date));
  const nearby = nearbyDates(calendar.byDate, date, earliest);
  const seatsNote = route.seats > 1 ? ` with ${route.seats} seats free` : "";

  if (filtered && flightsThatDay) {
    return (
      <Paper withBorder p="xl" data-testid="results-empty" data-reason="filters">
        <Stack align="center" gap="xs">
          <IconPlaneOff size={40} color="var(--mantine-color-gray-5)" aria-hidden />
          <Title order={3} size="h4">
            No flights match your filters
          </Title>
          <Text c="dimmed" ta="center" size="sm">
            There are flights from {route.source} to {route.destination} on this day{seatsNote}, but none with the stops,
            times or trip length you chose.
          </Text>
          <Button variant="light" leftSection={<IconFilterOff size={16} />} onClick={onClearFilters} data-testid="empty-clear-filters">
            Clear filters
          </Button>
        </Stack>
      </Paper>
    );
  }

  return (
    <Paper withBorder p="xl" data-testid="results-empty" data-reason="no-flights">
      <Stack align="center" gap="xs">
        <IconPlaneOff size={40} color="var(--mantine-color-gray-5)" aria-hidden />
        <Title order={3} size="h4">
          No flights found
        </Title>
        <Text c="dimmed" ta="center" size="sm">
          Nothing from {route.source} to {route.destination} on {dayMonthLabel(date)}
          {seatsNote}.
          {filtered ? " Your filters apply too." : ""}
        </Text>
        {calendar.loading ? (
          <Loader size="sm" aria-label="Looking for nearby dates" />
        ) : nearby.length > 0 ? (
          <Stack gap={6} align="center" data-testid="nearby-dates">
            <Text size="sm" fw={500}>
              Nearby dates with flights
            </Text>
            <Group gap="xs" justify="center">
              {nearby.map((day) => (
                <Button
                  key={day.date}
                  variant="light"
                  size="sm"
                  onClick={() => onPick(day.date)}
                  data-testid="nearby-date"
                  data-date={day.date}
                  aria-label={`Search ${weekdayLabel(day.date)} ${dayMonthLabel(day.date)}, from ${formatPrice(day.min_price)}`}
                >
                  {weekdayLabel(day.date)} {dayMonthLabel(day.date)} · {formatPrice(day.min_price)}
                </Button>
              ))}
            </Group>
          </Stack>
        ) : (
          <Text c="dimmed" ta="center" size="sm" data-testid="nearby-none">
            {calendar.failed
              ? "Nearby dates could not be checked right now. Try another date."
              : "No flights on this route in the weeks around this date. Try another destination or fewer passengers."}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
