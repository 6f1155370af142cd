import { Alert, Anchor, Button, Center, Group, Loader, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { IconAlertCircle, IconClockHour4, IconCreditCardOff, IconLock } from "@tabler/icons-react";
import { useRef, useState } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router-dom";

import PassengerList from "../components/orders/PassengerList";
import PriceBreakdownTable from "../components/orders/PriceBreakdownTable";
import SliceSummary from "../components/orders/SliceSummary";
import TripLoader, { type LoadedTrip } from "../components/orders/TripLoader";
import { countTypes, passengersForRequest, priceBreakdown, selectionKey } from "../lib/orders";
import { clearDraft, loadDraft } from "../lib/passengerDraft";
import { formatPrice } from "../lib/money";
import { uuid } from "../lib/uuid";
import * as api from "../services/api";
import { ApiError, errorMessage } from "../services/errors";
import { useTimezoneLookup } from "../services/hooks";
import type { Order } from "../types";
import { useFirstDay } from "./TripPassengersPage";

export default function OrderReviewPage() {
  const firstDay = useFirstDay();
  return <TripLoader firstDay={firstDay}>{(trip) => <Review trip={trip} />}</TripLoader>;
}

function Review({ trip }: { trip: LoadedTrip }) {
  const { selection, slices, firstDeparture } = trip;
  const [url] = useSearchParams();
  const navigate = useNavigate();
  const timezoneOf = useTimezoneLookup();
  const queryClient = useQueryClient();
  const key = selectionKey(selection);
  const draft = loadDraft(key, selection.seats);
  // One key per attempt: a double click or a resent request orders once; a new attempt after a
  // declined payment gets a new key so the server does not answer with the old failure.
  const attemptKey = useRef<string | null>(null);
  const [failed, setFailed] = useState<Order | null>(null);
  // Once the order exists this page only hands over to the trip's page: without this, the cleared
  // draft would send it back to the passengers step while the navigation is under way.
  const [placed, setPlaced] = useState(false);

  const passengers = draft ? passengersForRequest(draft.passengers, firstDeparture) : [];
  const order = useMutation({
    mutationFn: (hold: boolean) => {
      attemptKey.current ??= uuid();
      return api.createOrder(
        {
          slices: slices.map((s) => ({ flight_ids: s.flights.map((f) => f.id) })),
          passengers,
          contact: { email: draft!.email.trim() },
          hold,
        },
        attemptKey.current,
      );
    },
    onSuccess: (result) => {
      void queryClient.invalidateQueries({ queryKey: ["search"] });
      if (result.status === "FAILED") {
        attemptKey.current = null;
        setFailed(result);
        return;
      }
      setPlaced(true);
      clearDraft(key);
      queryClient.setQueryData(["orders", result.id], result);
      void queryClient.invalidateQueries({ queryKey: ["orders"] });
      navigate(`/trips/${result.id}`, { replace: true });
    },
    onError: (error) => {
      // Only an unanswered request keeps its key: it may have booked, and the retry must not book twice.
      if (!(error instanceof ApiError && error.status === 0)) attemptKey.current = null;
    },
  });

  if (placed) {
    return (
      <Center py="xl">
        <Loader aria-label="Opening your trip" />
      </Center>
    );
  }
  if (!draft) return <Navigate to={`/trip/passengers?${url.toString()}`} replace />;

  const breakdown = priceBreakdown(
    slices.flatMap((s) => s.flights),
    countTypes(passengers.map((p) => p.type)),
  );
  const conflict = order.error instanceof ApiError && (order.error.status === 409 || order.error.status === 404);
  const submit = (hold: boolean) => {
    if (order.isPending) return;
    setFailed(null);
    order.mutate(hold);
  };

  return (
    <Stack maw={760} mx="auto" py="md" gap="md" data-testid="review-page">
      <Stack gap={2}>
        <Text size="sm" c="dimmed">
          Step 2 of 2
        </Text>
        <Title order={2}>Review your trip</Title>
      </Stack>

      {slices.map((itinerary, index) => (
        <SliceSummary key={index} label={index === 0 ? "Outbound" : "Return"} flights={itinerary.flights} timezoneOf={timezoneOf} />
      ))}

      <Paper withBorder p="md">
        <Group justify="space-between" mb="xs">
          <Title order={3} size="h5">
            Passengers
          </Title>
          <Anchor component={Link} to={`/trip/passengers?${url.toString()}`} size="sm" data-testid="edit-passengers">
            Edit
          </Anchor>
        </Group>
        <PassengerList passengers={passengers} />
        <Text size="xs" c="dimmed" mt="xs" style={{ overflowWrap: "anywhere" }}>
          Confirmation to {draft.email}
        </Text>
      </Paper>

      <Paper withBorder p="md">
        <Title order={3} size="h5" mb="xs">
          Price breakdown
        </Title>
        <PriceBreakdownTable breakdown={breakdown} />
        <Text size="xs" c="dimmed" mt="xs">
          Fares as currently offered; one payment covers every flight, and all flights are booked together or not at all.
        </Text>
      </Paper>

      {failed && (
        <Alert color="red" icon={<IconCreditCardOff />} title="Payment failed" data-testid="order-failed" role="alert">
          <Stack gap={6} align="flex-start">
            <Text size="sm">
              The payment was declined, so nothing was booked and you were not charged. Your seats have been released; you can
              try again.
            </Text>
            <Button size="xs" color="red" onClick={() => submit(false)} loading={order.isPending} data-testid="order-retry">
              Try payment again
            </Button>
          </Stack>
        </Alert>
      )}

      {order.isError && (
        <Alert
          color={conflict ? "orange" : "red"}
          icon={<IconAlertCircle />}
          title={conflict ? "This trip can't be booked" : "Booking did not go through"}
          data-testid="order-error"
          role="alert"
        >
          <Stack gap={6} align="flex-start">
            <Text size="sm">{errorMessage(order.error)}</Text>
            {conflict ? (
              <Anchor component={Link} to="/" size="sm">
                Search again
              </Anchor>
            ) : (
              <Button size="xs" variant="white" color="red" onClick={() => submit(false)}>
                Try again
              </Button>
            )}
          </Stack>
        </Alert>
      )}

      <Paper withBorder p="md">
        <Stack gap="sm">
          <Group justify="space-between" wrap="wrap">
            <Text c="dimmed" size="sm">
              Total to pay
            </Text>
            <Text fw={800} size="xl" className="tabular" data-testid="review-total">
              {formatPrice(breakdown.total)}
            </Text>
          </Group>
          {/* One column on a phone: "Hold (pay within 30 min)" does not fit half of 390 px. */}
          <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
            <Button
              variant="default"
              leftSection={<IconClockHour4 size={18} />}
              onClick={() => submit(true)}
              disabled={conflict || order.isPending}
              data-testid="order-hold"
            >
              Hold (pay within 30 min)
            </Button>
            <Button
              leftSection={<IconLock size={18} />}
              onClick={() => submit(false)}
              loading={order.isPending}
              disabled={conflict}
              data-testid="order-pay"
            >
              Pay now
            </Button>
          </SimpleGrid>
        </Stack>
      </Paper>
    </Stack>
  );
}
