import { Alert, Anchor, Button, Divider, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { IconAlertCircle, IconCircleCheck, IconCreditCardOff, IconLock } from "@tabler/icons-react";
import { useRef, useState } from "react";
import { Link, useLocation, useSearchParams } from "react-router-dom";

import { Leg } from "../components/FlightResults";
import { outcomeOf, type Outcome } from "../lib/booking";
import { layovers, stopsLabel } from "../lib/itinerary";
import { formatPrice, multiplyPrice, sumPrices } from "../lib/money";
import { loadSelection, type Selection } from "../lib/selection";
import { formatDuration } from "../lib/time";
import { reference, uuid } from "../lib/uuid";
import * as api from "../services/api";
import { ApiError, errorMessage } from "../services/errors";
import { useTimezoneLookup } from "../services/hooks";

function useSelection(): Selection | null {
  const location = useLocation();
  const [params] = useSearchParams();
  const ids = (params.get("flights") ?? "").split(",").filter(Boolean);
  const state = location.state as Partial<Selection> | null;
  if (state?.itinerary && state.seats) {
    const stateIds = state.itinerary.flights.map((f) => f.id);
    if (stateIds.join(",") === ids.join(",")) return { itinerary: state.itinerary, seats: state.seats };
  }
  return ids.length > 0 ? loadSelection(ids) : null;
}

export default function BookingPage() {
  const selection = useSelection();
  const timezoneOf = useTimezoneLookup();
  const queryClient = useQueryClient();
  // One key per attempt: a double click or a resent request books once; a new attempt after a
  // declined payment gets a new key so the server does not answer with the old failure.
  const attemptKey = useRef<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const booking = useMutation({
    mutationFn: async (selected: Selection) => {
      attemptKey.current ??= uuid();
      const ids = selected.itinerary.flights.map((f) => f.id);
      const request =
        ids.length === 1 ? { flight_id: ids[0]!, seats: selected.seats } : { flight_ids: ids, seats: selected.seats };
      return api.book(request, attemptKey.current);
    },
    onSuccess: (result) => {
      const next = outcomeOf(result);
      setOutcome(next);
      if (next.status !== "CONFIRMED") attemptKey.current = null;
      void queryClient.invalidateQueries({ queryKey: ["bookings"] });
      void queryClient.invalidateQueries({ queryKey: ["search"] });
    },
    onError: (error) => {
      // Only an unanswered request keeps its key: it may have booked, and the retry must not book twice.
      if (!(error instanceof ApiError && error.status === 0)) attemptKey.current = null;
    },
  });

  if (!selection) {
    return (
      <Stack maw={640} mx="auto" py="xl" data-testid="booking-missing">
        <Title order={2}>Nothing to book</Title>
        <Text c="dimmed">This itinerary is no longer in your session. Search again to pick a flight.</Text>
        <Button component={Link} to="/" variant="light" w="fit-content">
          Search flights
        </Button>
      </Stack>
    );
  }

  const { itinerary, seats } = selection;
  const first = itinerary.flights[0]!;
  const last = itinerary.flights[itinerary.flights.length - 1]!;
  const stops = layovers(itinerary);
  const total = multiplyPrice(sumPrices(itinerary.flights.map((f) => f.price)), seats);
  const confirmed = outcome?.status === "CONFIRMED";
  const failed = outcome !== null && outcome.status !== "CONFIRMED";
  const conflict = booking.error instanceof ApiError && (booking.error.status === 409 || booking.error.status === 404);

  const confirm = () => {
    if (booking.isPending || confirmed) return;
    setOutcome(null);
    booking.mutate(selection);
  };

  return (
    <Stack maw={760} mx="auto" py="md" gap="md">
      <Stack gap={2}>
        <Title order={2}>
          {first.source} → {last.destination}
        </Title>
        <Text c="dimmed">
          {stopsLabel(itinerary.stops)} · {formatDuration(itinerary.duration_minutes)} · {seats}{" "}
          {seats === 1 ? "passenger" : "passengers"}
        </Text>
      </Stack>

      <Paper withBorder p="md">
        <Stack gap="xs">
          {itinerary.flights.map((flight, index) => (
            <Stack key={flight.id} gap={4}>
              {index > 0 && stops[index - 1] && (
                <Text size="sm" c="orange.8" pl={28}>
                  {formatDuration(stops[index - 1]!.minutes)} layover in {stops[index - 1]!.airport}
                </Text>
              )}
              <Leg flight={flight} timezoneOf={timezoneOf} />
            </Stack>
          ))}
        </Stack>
      </Paper>

      <Paper withBorder p="md">
        <Title order={3} size="h4" mb="xs">
          Price breakdown
        </Title>
        <Table data-testid="price-breakdown" verticalSpacing={6} horizontalSpacing={6}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Flight</Table.Th>
              {/* Fare and passengers share a column: four columns overflowed a 390 px phone. */}
              <Table.Th ta="right">Fare</Table.Th>
              <Table.Th ta="right">Amount</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {itinerary.flights.map((flight) => (
              <Table.Tr key={flight.id}>
                <Table.Td>
                  <Text size="sm" fw={500} ff="monospace">
                    {flight.flight_number}
                  </Text>
                  <Text size="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
                    {flight.source} → {flight.destination}
                  </Text>
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  <Text size="sm" style={{ whiteSpace: "nowrap" }}>
                    {formatPrice(flight.price)}
                  </Text>
                  <Text size="xs" c="dimmed">
                    × {seats}
                  </Text>
                </Table.Td>
                <Table.Td ta="right" className="tabular">
                  {formatPrice(multiplyPrice(flight.price, seats))}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
          <Table.Tfoot>
            <Table.Tr>
              <Table.Th colSpan={2}>Total</Table.Th>
              <Table.Th ta="right" className="tabular" data-testid="booking-total">
                {formatPrice(total)}
              </Table.Th>
            </Table.Tr>
          </Table.Tfoot>
        </Table>
        <Text size="xs" c="dimmed" mt="xs">
          Fares are those shown in your search; one payment covers every flight, and connecting flights are booked together or
          not at all.
        </Text>
      </Paper>

      {confirmed && outcome && (
        <Alert color="green" icon={<IconCircleCheck />} title="Booking confirmed" data-testid="booking-confirmed" role="status">
          <Stack gap={6}>
            <Text size="sm">
              Your reference is{" "}
              <Text span fw={800} ff="monospace" data-testid="booking-reference" title={outcome.id}>
                {reference(outcome.id)}
              </Text>
              .
            </Text>
            <Group gap="sm">
              <Button component={Link} to="/bookings" size="xs" data-testid="go-to-bookings">
                View my bookings
              </Button>
              <Button component={Link} to="/" size="xs" variant="subtle">
                New search
              </Button>
            </Group>
          </Stack>
        </Alert>
      )}

      {failed && (
        <Alert color="red" icon={<IconCreditCardOff />} title="Payment failed" data-testid="booking-failed" role="alert">
          <Stack gap={6} align="flex-start">
            <Text size="sm">
              The payment was declined, so nothing was booked and you were not charged. Your seats have been released; you can
              try again.
            </Text>
            <Button size="xs" color="red" onClick={confirm} loading={booking.isPending} data-testid="booking-retry">
              Try payment again
            </Button>
          </Stack>
        </Alert>
      )}

      {booking.isError && (
        <Alert
          color={conflict ? "orange" : "red"}
          icon={<IconAlertCircle />}
          title={conflict ? "This itinerary can't be booked" : "Booking did not go through"}
          data-testid="booking-error"
          role="alert"
        >
          <Stack gap={6} align="flex-start">
            <Text size="sm">{errorMessage(booking.error)}</Text>
            {conflict ? (
              <Anchor component={Link} to="/" size="sm">
                Search again
              </Anchor>
            ) : (
              <Button size="xs" variant="white" color="red" onClick={confirm}>
                Try again
              </Button>
            )}
          </Stack>
        </Alert>
      )}

      {!confirmed && !failed && (
        <>
          <Divider />
          <Group justify="space-between" wrap="wrap">
            <Stack gap={0}>
              <Text size="sm" c="dimmed">
                Total to pay
              </Text>
              <Text fw={800} size="xl" className="tabular">
                {formatPrice(total)}
              </Text>
            </Stack>
            <Button
              size="md"
              leftSection={<IconLock size={18} />}
              onClick={confirm}
              loading={booking.isPending}
              disabled={conflict}
              data-testid="booking-confirm"
            >
              Confirm and pay
            </Button>
          </Group>
        </>
      )}
    </Stack>
  );
}
