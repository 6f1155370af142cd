import { Badge, Group, Paper, Stack, Text } from "@mantine/core";

import { Leg } from "../FlightResults";
import { formatDuration, minutesBetween, type TimezoneLookup } from "../../lib/time";
import type { Flight } from "../../types";

interface Props {
  label: string;
  flights: Flight[];
  timezoneOf: TimezoneLookup;
  testId?: string;
}

/** One slice of a trip (outbound or return): its flights in travel order with the layovers between them. */
export default function SliceSummary({ label, flights, timezoneOf, testId = "slice" }: Props) {
  const first = flights[0];
  const last = flights[flights.length - 1];
  if (!first || !last) return null;
  const stops = flights.length - 1;
  return (
    <Paper withBorder p="md" data-testid={testId}>
      <Stack gap="xs">
        <Group gap="xs" wrap="wrap">
          <Badge variant="light">{label}</Badge>
          <Text fw={600}>
            {first.source} → {last.destination}
          </Text>
          <Text size="sm" c="dimmed">
            {stops === 0 ? "Non-stop" : stops === 1 ? "1 stop" : `${stops} stops`} ·{" "}
            {formatDuration(minutesBetween(first.departure_ts, last.arrival_ts))}
          </Text>
        </Group>
        {flights.map((flight, index) => (
          <Stack key={flight.id} gap={4}>
            {index > 0 && (
              <Text size="sm" c="orange.8" pl={28} data-testid="layover">
                {formatDuration(minutesBetween(flights[index - 1]!.arrival_ts, flight.departure_ts))} layover in {flight.source}
              </Text>
            )}
            <Leg flight={flight} timezoneOf={timezoneOf} />
          </Stack>
        ))}
      </Stack>
    </Paper>
  );
}
