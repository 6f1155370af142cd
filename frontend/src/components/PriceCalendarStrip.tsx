import { Button, Group, Paper, SimpleGrid, Skeleton, Stack, Text, UnstyledButton } from "@mantine/core";
import { IconCalendarMonth } from "@tabler/icons-react";

import {
  cheapestDates,
  dayMonthLabel,
  daysAround,
  flies,
  formatPriceShort,
  longDateLabel,
  monthsCovering,
  weekdayLabel,
} from "../lib/calendar";
import { formatPrice } from "../lib/money";
import { stopsLabel } from "../lib/itinerary";
import { usePriceCalendar, type CalendarRoute } from "../services/calendar";
import type { CalendarDay } from "../types";

/** Days shown either side of the chosen date. */
export const STRIP_RADIUS = 3;

interface Props {
  route: CalendarRoute;
  date: string;
  /** Days before this cannot be searched any more: shown, not clickable. */
  earliest: string;
  onPick: (date: string) => void;
  onOpenMonth: () => void;
}

/**
 * The chosen date and the three days either side, each with its lowest fare (from the calendar of
 * the one or two months they fall in); a click searches that day. The cheapest of the seven is
 * marked.
 */
export default function PriceCalendarStrip({ route, date, earliest, onPick, onOpenMonth }: Props) {
  const days = daysAround(date, STRIP_RADIUS);
  const calendar = usePriceCalendar(route, monthsCovering(days));
  const shown = days.map((d) => calendar.byDate.get(d)).filter((d): d is CalendarDay => d !== undefined);
  const cheapest = cheapestDates(shown, earliest);

  return (
    <Paper withBorder p="xs" component="nav" aria-label="Prices on nearby dates" data-testid="calendar-strip">
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap" gap="xs">
          <Text size="sm" fw={500}>
            Lowest fares by day
          </Text>
          <Button
            size="compact-sm"
            variant="subtle"
            leftSection={<IconCalendarMonth size={16} />}
            onClick={onOpenMonth}
            data-testid="calendar-month-open"
          >
            Month
          </Button>
        </Group>
        {calendar.failed && (
          <Text size="xs" c="dimmed">
            Fares for nearby dates are unavailable right now.
          </Text>
        )}
        <SimpleGrid cols={7} spacing={4}>
          {days.map((day) => (
            <StripDay
              key={day}
              date={day}
              entry={calendar.byDate.get(day)}
              loading={calendar.loading && !calendar.byDate.has(day)}
              selected={day === date}
              cheapest={cheapest.has(day)}
              past={day < earliest}
              onPick={onPick}
            />
          ))}
        </SimpleGrid>
      </Stack>
    </Paper>
  );
}

interface DayProps {
  date: string;
  entry: CalendarDay | undefined;
  loading: boolean;
  selected: boolean;
  cheapest: boolean;
  past: boolean;
  onPick: (date: string) => void;
}

function StripDay({ date, entry, loading, selected, cheapest, past, onPick }: DayProps) {
  const priced = flies(entry);
  const label = `${longDateLabel(date)}: ${
    loading ? "loading" : priced ? `from ${formatPrice(entry.min_price)}, ${stopsLabel(entry.stops ?? 0)}` : "no flights"
  }${cheapest ? ", cheapest" : ""}`;
  return (
    <UnstyledButton
      onClick={() => onPick(date)}
      disabled={past || selected}
      aria-label={label}
      aria-current={selected ? "date" : undefined}
      data-testid="calendar-strip-day"
      data-date={date}
      data-price={priced ? entry.min_price : undefined}
      data-selected={selected || undefined}
      data-cheapest={cheapest || undefined}
      style={{
        minWidth: 0,
        padding: "4px 2px",
        borderRadius: "var(--mantine-radius-sm)",
        textAlign: "center",
        border: `1px solid ${selected ? "var(--mantine-color-indigo-6)" : "var(--mantine-color-gray-3)"}`,
        background: selected ? "var(--mantine-color-indigo-0)" : undefined,
        opacity: past ? 0.45 : 1,
        cursor: past || selected ? "default" : "pointer",
      }}
    >
      <Text size="xs" c="dimmed" lh={1.3}>
        {weekdayLabel(date)}
      </Text>
      <Text size="xs" fw={700} lh={1.3} style={{ whiteSpace: "nowrap" }}>
        {dayMonthLabel(date)}
      </Text>
      {loading ? (
        <Skeleton height={12} mt={3} mx={4} />
      ) : (
        <Text
          size="xs"
          lh={1.4}
          fw={cheapest ? 700 : 400}
          c={priced ? (cheapest ? "teal.8" : "dark") : "dimmed"}
          className="tabular"
          style={{ whiteSpace: "nowrap" }}
          data-testid="calendar-strip-price"
        >
          {priced ? formatPriceShort(entry.min_price) : "—"}
        </Text>
      )}
    </UnstyledButton>
  );
}
