import { Alert, Button, Group, Loader, Modal, Paper, SimpleGrid, Stack, Text } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { IconAlertCircle, IconAlertTriangle } from "@tabler/icons-react";

import { formatPrice } from "../../lib/money";
import { formatDateTime, zoneLabel } from "../../lib/time";
import * as ops from "../../services/operations";
import { errorMessage } from "../../services/errors";
import { useTimezoneLookup } from "../../services/hooks";
import type { Flight } from "../../types";
import type { FlightCancellation } from "../../types/operations";

interface Props {
  flight: Flight | null;
  onClose: () => void;
  onCancelled: (result: FlightCancellation) => void;
}

/**
 * The airline cancels a flight. What it will do (orders cancelled, passengers affected, refunds
 * owed) is fetched and shown first; the confirm button stays disabled until it is on screen.
 */
export default function CancelFlightDialog({ flight, onClose, onCancelled }: Props) {
  const timezoneOf = useTimezoneLookup();
  const impact = useQuery({
    queryKey: ["admin", "cancellation-impact", flight?.id],
    queryFn: () => ops.cancellationImpact(flight!.id),
    enabled: flight !== null,
    // The impact must be current when the operator decides, not a cached figure.
    staleTime: 0,
    gcTime: 0,
  });
  const cancel = useMutation({
    mutationFn: (f: Flight) => ops.cancelFlight(f.id),
    onSuccess: (result) => onCancelled(result),
  });
  const close = () => {
    cancel.reset();
    onClose();
  };
  const zone = flight ? timezoneOf(flight.source) : "UTC";

  return (
    <Modal opened={flight !== null} onClose={close} title="Cancel flight?" centered>
      {flight && (
        <Stack gap="sm" data-testid="cancel-flight-dialog">
          <Text size="sm">
            Cancel <b>{flight.flight_number}</b> ({flight.source} → {flight.destination}, {formatDateTime(flight.departure_ts, zone)}{" "}
            {zoneLabel(zone, flight.departure_ts)})? It leaves search at once and cannot be booked; the flight itself is kept, marked
            cancelled.
          </Text>
          {impact.isPending && <Loader size="sm" aria-label="Loading impact" />}
          {impact.isError && (
            <Alert color="red" icon={<IconAlertCircle />} role="alert">
              {errorMessage(impact.error)}
            </Alert>
          )}
          {impact.data && (
            <>
              <SimpleGrid cols={{ base: 2, xs: 4 }} spacing="xs" data-testid="cancel-impact">
                <Figure label="Orders" value={String(impact.data.orders)} testId="impact-orders" />
                <Figure label="Bookings" value={String(impact.data.bookings)} testId="impact-bookings" />
                <Figure label="Passengers" value={String(impact.data.passengers)} testId="impact-passengers" />
                <Figure label="Refunds" value={formatPrice(impact.data.refund_total)} testId="impact-refund" />
              </SimpleGrid>
              <Alert color="orange" icon={<IconAlertTriangle />} p="xs">
                <Text size="sm">
                  {impact.data.orders === 0
                    ? "Nobody is booked: no order is affected."
                    : `Every held or booked order on it is cancelled with a full refund (${formatPrice(impact.data.refund_total)} in all), its seats released, and each traveller notified.`}
                </Text>
              </Alert>
            </>
          )}
          {cancel.isError && (
            <Alert color="red" icon={<IconAlertCircle />} role="alert" data-testid="cancel-flight-error">
              {errorMessage(cancel.error)}
            </Alert>
          )}
          <Group justify="flex-end" wrap="wrap">
            <Button variant="default" onClick={close}>
              Keep flight
            </Button>
            <Button
              color="red"
              disabled={!impact.data}
              loading={cancel.isPending}
              onClick={() => cancel.mutate(flight)}
              data-testid="confirm-cancel-flight"
            >
              Cancel flight
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}

function Figure({ label, value, testId }: { label: string; value: string; testId: string }) {
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
