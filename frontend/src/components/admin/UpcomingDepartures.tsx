import { Alert, Badge, Group, Paper, Progress, SegmentedControl, SimpleGrid, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { IconAlertCircle } from "@tabler/icons-react";
import { useState } from "react";

import { formatLoadFactor, loadFactor, loadFactorColor } from "../../lib/operations";
import { formatDateTime, zoneLabel } from "../../lib/time";
import * as ops from "../../services/operations";
import { errorMessage } from "../../services/errors";
import { useTimezoneLookup } from "../../services/hooks";
import FlightOpsActions from "./FlightOpsActions";

/** Flights leaving in the next hours, as cards (they fit a phone) with their manifest and cancel actions. */
export default function UpcomingDepartures() {
  const [hours, setHours] = useState("24");
  const timezoneOf = useTimezoneLookup();
  const departures = useQuery({
    queryKey: ["admin", "operations", "departures", hours],
    queryFn: () => ops.departures(Number(hours)),
    refetchInterval: 60_000,
  });

  return (
    <Stack gap="sm">
      <SegmentedControl
        value={hours}
        onChange={setHours}
        data={[
          { value: "6", label: "6 h" },
          { value: "24", label: "24 h" },
          { value: "72", label: "3 days" },
        ]}
        w={{ base: "100%", xs: 260 }}
        aria-label="Departures within"
      />
      {departures.isError && (
        <Alert color="red" icon={<IconAlertCircle />} role="alert">
          {errorMessage(departures.error)}
        </Alert>
      )}
      {departures.data && departures.data.items.length === 0 && (
        <Text c="dimmed" size="sm" data-testid="departures-empty">
          No departures in the next {hours} hours.
        </Text>
      )}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="sm">
        {departures.data?.items.map(({ flight, seats_sold: sold, seats_held: held }) => {
          const status = flight.status;
          const zone = timezoneOf(flight.source);
          const factor = loadFactor(sold, flight.total_seats);
          return (
            <Paper key={flight.id} withBorder p="sm" data-testid="departure" data-flight-number={flight.flight_number} data-status={status}>
              <Stack gap={6}>
                <Group justify="space-between" wrap="nowrap" gap="xs">
                  <Group gap="xs" wrap="wrap" style={{ minWidth: 0 }}>
                    <Text ff="monospace" fw={700}>
                      {flight.flight_number}
                    </Text>
                    <Badge color={status === "CANCELLED" ? "red" : "blue"} variant="light" size="sm">
                      {status === "CANCELLED" ? "Cancelled" : "Scheduled"}
                    </Badge>
                  </Group>
                  <Group gap={4} wrap="nowrap">
                    <FlightOpsActions flight={flight} />
                  </Group>
                </Group>
                <Text size="sm">
                  {flight.source} → {flight.destination}
                </Text>
                <Text size="sm" c="dimmed" className="tabular">
                  {formatDateTime(flight.departure_ts, zone)} {zoneLabel(zone, flight.departure_ts)}
                </Text>
                <Group gap="xs" wrap="nowrap">
                  <Progress value={factor * 100} color={loadFactorColor(factor)} style={{ flex: 1 }} aria-hidden />
                  <Text size="sm" className="tabular" data-testid="departure-load">
                    {sold} / {flight.total_seats} · {formatLoadFactor(factor)}
                    {held > 0 ? ` · ${held} held` : ""}
                  </Text>
                </Group>
              </Stack>
            </Paper>
          );
        })}
      </SimpleGrid>
    </Stack>
  );
}
