import { Alert, Badge, Button, Card, Group, Modal, Paper, Skeleton, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { IconAlertCircle, IconTicket } from "@tabler/icons-react";
import { useState } from "react";
import { Link } from "react-router-dom";

import { Leg } from "../components/FlightResults";
import { STATUS_COLORS, groupTrips, type Trip } from "../lib/booking";
import { formatPrice, multiplyPrice, sumPrices } from "../lib/money";
import { formatDateTime } from "../lib/time";
import { reference } from "../lib/uuid";
import * as api from "../services/api";
import { errorMessage } from "../services/errors";
import { useTimezoneLookup } from "../services/hooks";

function tripPrice(trip: Trip): number {
  return sumPrices(trip.bookings.map((b) => multiplyPrice(b.flight.price, b.seats)));
}

export default function MyBookingsPage() {
  const bookings = useQuery({ queryKey: ["bookings"], queryFn: api.myBookings });
  const timezoneOf = useTimezoneLookup();
  const queryClient = useQueryClient();
  const [cancelling, setCancelling] = useState<Trip | null>(null);

  const cancel = useMutation({
    mutationFn: (trip: Trip) => api.cancelBooking(trip.bookings[0]!.id),
    onSuccess: (_data, trip) => {
      setCancelling(null);
      notifications.show({ color: "green", title: "Booking cancelled", message: `Reference ${reference(trip.referenceId)}` });
      void queryClient.invalidateQueries({ queryKey: ["bookings"] });
      void queryClient.invalidateQueries({ queryKey: ["search"] });
    },
  });

  const trips = bookings.data ? groupTrips(bookings.data) : [];

  return (
    <Stack py="md" gap="md">
      <Title order={2}>My bookings</Title>

      {bookings.isPending && (
        <Stack data-testid="bookings-loading">
          {[0, 1].map((i) => (
            <Skeleton key={i} height={110} radius="md" />
          ))}
        </Stack>
      )}

      {bookings.isError && (
        <Alert color="red" icon={<IconAlertCircle />} title="Could not load your bookings" role="alert">
          <Stack gap="xs" align="flex-start">
            <Text size="sm">{errorMessage(bookings.error)}</Text>
            <Button size="xs" variant="white" color="red" onClick={() => void bookings.refetch()}>
              Try again
            </Button>
          </Stack>
        </Alert>
      )}

      {bookings.data && trips.length === 0 && (
        <Paper withBorder p="xl" data-testid="bookings-empty">
          <Stack align="center" gap="xs">
            <IconTicket size={40} color="var(--mantine-color-gray-5)" aria-hidden />
            <Text fw={600}>No bookings yet</Text>
            <Button component={Link} to="/" variant="light">
              Search flights
            </Button>
          </Stack>
        </Paper>
      )}

      {trips.map((trip) => {
        const first = trip.bookings[0]!;
        const last = trip.bookings[trip.bookings.length - 1]!;
        return (
          <Card withBorder key={trip.key} data-testid="booking" data-status={trip.status} component="article">
            <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
              <Stack gap={6} style={{ flex: "1 1 320px", minWidth: 0 }}>
                <Group gap="xs">
                  <Text fw={700}>
                    {first.flight.source} → {last.flight.destination}
                  </Text>
                  <Badge color={STATUS_COLORS[trip.status]} data-testid="booking-status">
                    {trip.status}
                  </Badge>
                </Group>
                <Text size="xs" c="dimmed">
                  Reference{" "}
                  <Text span ff="monospace" fw={700} c="dark" data-testid="booking-ref" title={trip.referenceId}>
                    {reference(trip.referenceId)}
                  </Text>{" "}
                  · booked {formatDateTime(trip.createdAt, Intl.DateTimeFormat().resolvedOptions().timeZone)} ·{" "}
                  {first.seats} {first.seats === 1 ? "passenger" : "passengers"}
                </Text>
                {trip.bookings.map((b) => (
                  <Leg key={b.id} flight={b.flight} timezoneOf={timezoneOf} />
                ))}
              </Stack>
              <Stack gap={6} align="flex-end" style={{ marginLeft: "auto" }}>
                <Text fw={800} size="lg" className="tabular">
                  {formatPrice(tripPrice(trip))}
                </Text>
                {trip.status === "CONFIRMED" && (
                  <Button
                    variant="light"
                    color="red"
                    size="xs"
                    onClick={() => {
                      cancel.reset();
                      setCancelling(trip);
                    }}
                    data-testid="cancel-booking"
                  >
                    Cancel
                  </Button>
                )}
              </Stack>
            </Group>
          </Card>
        );
      })}

      <Modal
        opened={cancelling !== null}
        onClose={() => setCancelling(null)}
        title="Cancel this booking?"
        centered
        data-testid="cancel-dialog"
      >
        {cancelling && (
          <Stack>
            <Text size="sm">
              {cancelling.bookings.length > 1
                ? `All ${cancelling.bookings.length} flights of this trip will be cancelled together and the seats released.`
                : "The booking will be cancelled and the seats released."}{" "}
              This cannot be undone.
            </Text>
            {cancel.isError && (
              <Alert color="red" icon={<IconAlertCircle />} role="alert" data-testid="cancel-error">
                {errorMessage(cancel.error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setCancelling(null)}>
                Keep booking
              </Button>
              <Button
                color="red"
                loading={cancel.isPending}
                onClick={() => cancel.mutate(cancelling)}
                data-testid="confirm-cancel"
              >
                Cancel booking
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}
