import { Alert, Badge, Group, Loader, Modal, Paper, SimpleGrid, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { IconAlertCircle } from "@tabler/icons-react";

import { formatDateTime, zoneLabel } from "../../lib/time";
import * as ops from "../../services/operations";
import { errorMessage } from "../../services/errors";
import { useTimezoneLookup } from "../../services/hooks";
import type { Flight } from "../../types";
import type { ManifestEntry } from "../../types/operations";

const STATUS_COLOR: Record<string, string> = {
  CONFIRMED: "green",
  HELD: "yellow",
  PENDING: "blue",
  CANCELLED: "gray",
  FAILED: "red",
  EXPIRED: "gray",
};

function Entry({ entry }: { entry: ManifestEntry }) {
  return (
    <Paper withBorder p="sm" data-testid="manifest-entry" data-reference={entry.reference ?? ""} data-status={entry.status}>
      <Stack gap={4}>
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Text ff="monospace" fw={700}>
            {entry.reference ?? "—"}
          </Text>
          <Badge color={STATUS_COLOR[entry.status] ?? "gray"} variant="light">
            {entry.status}
          </Badge>
        </Group>
        <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          {entry.username}
          {entry.contact_email ? ` · ${entry.contact_email}` : ""} · {entry.seats} {entry.seats === 1 ? "seat" : "seats"}
        </Text>
        {entry.passengers.length > 0 ? (
          <Stack gap={0} component="ul" style={{ margin: 0, paddingInlineStart: 18 }}>
            {entry.passengers.map((p, i) => (
              <Text key={i} component="li" size="sm" data-testid="manifest-passenger">
                {p.family_name.toUpperCase()}, {p.given_name}{" "}
                <Text span size="xs" c="dimmed">
                  {p.type} · born {p.born_on}
                </Text>
              </Text>
            ))}
          </Stack>
        ) : (
          <Text size="sm" c="dimmed">
            No passenger names (a booking made before orders).
          </Text>
        )}
      </Stack>
    </Paper>
  );
}

interface Props {
  flight: Flight | null;
  onClose: () => void;
}

/** Who is booked on a flight: every booking with its order reference, passengers and status. */
export default function FlightManifest({ flight, onClose }: Props) {
  const timezoneOf = useTimezoneLookup();
  const manifest = useQuery({
    queryKey: ["admin", "manifest", flight?.id],
    queryFn: () => ops.manifest(flight!.id),
    enabled: flight !== null,
  });
  const zone = flight ? timezoneOf(flight.source) : "UTC";
  const data = manifest.data;

  return (
    <Modal opened={flight !== null} onClose={onClose} title={flight ? `Manifest · ${flight.flight_number}` : "Manifest"} size="lg">
      {flight && (
        <Stack gap="sm" data-testid="manifest">
          <Text size="sm" c="dimmed">
            {flight.source} → {flight.destination}, {formatDateTime(flight.departure_ts, zone)} {zoneLabel(zone, flight.departure_ts)}
          </Text>
          {manifest.isPending && <Loader size="sm" aria-label="Loading manifest" />}
          {manifest.isError && (
            <Alert color="red" icon={<IconAlertCircle />} role="alert">
              {errorMessage(manifest.error)}
            </Alert>
          )}
          {data && (
            <>
              <SimpleGrid cols={3} spacing="xs">
                <Stat label="Bookings" value={data.totals.bookings} testId="manifest-bookings" />
                <Stat label="Seats taken" value={data.totals.seats_taken} testId="manifest-seats" />
                <Stat label="Passengers" value={data.totals.passengers} testId="manifest-passengers" />
              </SimpleGrid>
              {data.entries.length === 0 ? (
                <Text c="dimmed" ta="center" py="md" data-testid="manifest-empty">
                  Nobody is booked on this flight.
                </Text>
              ) : (
                data.entries.map((entry) => <Entry key={entry.booking_id} entry={entry} />)
              )}
            </>
          )}
        </Stack>
      )}
    </Modal>
  );
}

function Stat({ label, value, testId }: { label: string; value: number | string; testId: string }) {
  return (
    <Paper withBorder p="xs" ta="center">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={700} className="tabular" data-testid={testId}>
        {value}
      </Text>
    </Paper>
  );
}
