import { ActionIcon, Badge, Box, Group, Loader, Modal, SimpleGrid, Stack, Text, UnstyledButton } from "@mantine/core";
import { IconChevronLeft, IconChevronRight } from "@tabler/icons-react";
import { useState } from "react";

import { cheapestDates, flies, formatPriceShort, longDateLabel, monthGrid, monthLabel, monthOf, shiftMonth } from "../lib/calendar";
import { formatPrice } from "../lib/money";
import { usePriceCalendar, type CalendarRoute } from "../services/calendar";
import type { CalendarDay } from "../types";

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

interface Props {
  opened: boolean;
  onClose: () => void;
  route: CalendarRoute;
  date: string;
  earliest: string;
  onPick: (date: string) => void;
}

/** A month of lowest fares (one calendar request), the cheapest days marked; a click searches that day. */
export default function PriceCalendarMonth({ opened, onClose, route, date, earliest, onPick }: Props) {
  return (
    <Modal opened={opened} onClose={onClose} title={`${route.source} → ${route.destination}: lowest fares`} centered size="md">
      {/* Mounted while open: each opening starts at the searched date's month. */}
      {opened && (
        <MonthGrid
          route={route}
          selected={date}
          earliest={earliest}
          onPick={(day) => {
            onClose();
            onPick(day);
          }}
        />
      )}
    </Modal>
  );
}

interface GridProps {
  route: CalendarRoute;
  selected: string;
  earliest: string;
  onPick: (date: string) => void;
}

function MonthGrid({ route, selected, earliest, onPick }: GridProps) {
  const [month, onMonth] = useState(monthOf(selected));
  const calendar = usePriceCalendar(route, [month]);
  const days = [...calendar.byDate.values()];
  const cheapest = cheapestDates(days, earliest);
  const firstPrice = days.find((d) => cheapest.has(d.date))?.min_price;
  const canGoBack = month > monthOf(earliest);

  return (
    <Stack gap="sm" data-testid="calendar-month" data-month={month}>
      <Group justify="space-between" wrap="nowrap">
        <ActionIcon
          variant="subtle"
          onClick={() => onMonth(shiftMonth(month, -1))}
          disabled={!canGoBack}
          aria-label="Previous month"
          data-testid="calendar-month-prev"
        >
          <IconChevronLeft size={18} />
        </ActionIcon>
        <Group gap="xs" wrap="nowrap">
          <Text fw={600} data-testid="calendar-month-label">
            {monthLabel(month)}
          </Text>
          {calendar.loading && <Loader size="xs" aria-label="Loading fares" />}
        </Group>
        <ActionIcon variant="subtle" onClick={() => onMonth(shiftMonth(month, 1))} aria-label="Next month" data-testid="calendar-month-next">
          <IconChevronRight size={18} />
        </ActionIcon>
      </Group>
      {calendar.failed && (
        <Text size="sm" c="red">
          Fares for this month could not be loaded.
        </Text>
      )}
      <SimpleGrid cols={7} spacing={4} verticalSpacing={4}>
        {WEEKDAYS.map((w) => (
          <Text key={w} size="xs" c="dimmed" ta="center">
            {w}
          </Text>
        ))}
        {monthGrid(month)
          .flat()
          .map((day, i) =>
            day === null ? (
              <Box key={`pad-${i}`} />
            ) : (
              <MonthDay
                key={day}
                date={day}
                entry={calendar.byDate.get(day)}
                selected={day === selected}
                cheapest={cheapest.has(day)}
                past={day < earliest}
                onPick={onPick}
              />
            ),
          )}
      </SimpleGrid>
      <Group gap="xs" wrap="wrap">
        {firstPrice !== undefined && firstPrice !== null ? (
          <Badge color="teal" variant="light" data-testid="calendar-month-cheapest">
            Cheapest: {formatPrice(firstPrice)}
          </Badge>
        ) : (
          !calendar.loading && (
            <Text size="sm" c="dimmed" data-testid="calendar-month-none">
              No flights this month.
            </Text>
          )
        )}
        <Text size="xs" c="dimmed">
          Lowest fare per passenger for the first departure that day.
        </Text>
      </Group>
    </Stack>
  );
}

interface DayProps {
  date: string;
  entry: CalendarDay | undefined;
  selected: boolean;
  cheapest: boolean;
  past: boolean;
  onPick: (date: string) => void;
}

function MonthDay({ date, entry, selected, cheapest, past, onPick }: DayProps) {
  const priced = flies(entry);
  const background = cheapest ? "var(--mantine-color-teal-0)" : selected ? "var(--mantine-color-indigo-0)" : undefined;
  const border = selected
    ? "var(--mantine-color-indigo-6)"
    : cheapest
      ? "var(--mantine-color-teal-6)"
      : "var(--mantine-color-gray-3)";
  return (
    <UnstyledButton
      onClick={() => onPick(date)}
      disabled={past}
      aria-label={`${longDateLabel(date)}: ${priced ? `from ${formatPrice(entry.min_price)}` : "no flights"}${cheapest ? ", cheapest this month" : ""}`}
      aria-current={selected ? "date" : undefined}
      data-testid="calendar-month-day"
      data-date={date}
      data-price={priced ? entry.min_price : undefined}
      data-cheapest={cheapest || undefined}
      style={{
        minWidth: 0,
        padding: "4px 0",
        textAlign: "center",
        borderRadius: "var(--mantine-radius-sm)",
        border: `1px solid ${border}`,
        background,
        opacity: past ? 0.4 : 1,
        cursor: past ? "default" : "pointer",
      }}
    >
      <Text size="sm" fw={selected ? 700 : 500} lh={1.2}>
        {Number(date.slice(8))}
      </Text>
      <Text size="10px" lh={1.3} c={priced ? (cheapest ? "teal.8" : "dark") : "dimmed"} fw={cheapest ? 700 : 400} style={{ whiteSpace: "nowrap" }}>
        {priced ? formatPriceShort(entry.min_price) : "—"}
      </Text>
    </UnstyledButton>
  );
}
