import { Alert, Anchor, Badge, Button, Card, Group, Paper, Skeleton, Stack, Tabs, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { IconAlertCircle, IconTicket } from "@tabler/icons-react";
import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { Leg } from "../components/FlightResults";
import NeedsAttentionBanner from "../components/NeedsAttentionBanner";
import CancelOrderDialog from "../components/orders/CancelOrderDialog";
import PayOrderButton from "../components/orders/PayOrderButton";
import { formatPrice } from "../lib/money";
import { ORDER_STATUS_COLORS, canCancel, canPay, splitTrips } from "../lib/orders";
import { formatDateTime } from "../lib/time";
import * as api from "../services/api";
import { errorMessage } from "../services/errors";
import { useTimezoneLookup } from "../services/hooks";
import type { Order } from "../types";

const here = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

export default function MyTripsPage() {
  const orders = useQuery({ queryKey: ["orders"], queryFn: api.myOrders });
  const [url, setUrl] = useSearchParams();
  const tab = url.get("tab") === "past" ? "past" : "upcoming";
  const [cancelling, setCancelling] = useState<Order | null>(null);
  const { upcoming, past } = splitTrips(orders.data ?? []);
  const shown = tab === "past" ? past : upcoming;

  return (
    <Stack py="md" gap="md">
      <Group justify="space-between" wrap="wrap">
        <Title order={2}>My trips</Title>
        <Anchor component={Link} to="/bookings" size="sm" data-testid="legacy-bookings">
          Bookings made before trips
        </Anchor>
      </Group>

      <Tabs
        value={tab}
        onChange={(value) => setUrl(value === "past" ? { tab: "past" } : {}, { replace: true })}
        keepMounted={false}
      >
        <Tabs.List>
          <Tabs.Tab value="upcoming" data-testid="tab-upcoming">
            Upcoming{orders.data ? ` (${upcoming.length})` : ""}
          </Tabs.Tab>
          <Tabs.Tab value="past" data-testid="tab-past">
            Past{orders.data ? ` (${past.length})` : ""}
          </Tabs.Tab>
        </Tabs.List>
      </Tabs>

      {orders.isPending && (
        <Stack data-testid="trips-loading">
          {[0, 1].map((i) => (
            <Skeleton key={i} height={110} radius="md" />
          ))}
        </Stack>
      )}

      {orders.isError && (
        <Alert color="red" icon={<IconAlertCircle />} title="Could not load your trips" role="alert">
          <Stack gap="xs" align="flex-start">
            <Text size="sm">{errorMessage(orders.error)}</Text>
            <Button size="xs" variant="white" color="red" onClick={() => void orders.refetch()}>
              Try again
            </Button>
          </Stack>
        </Alert>
      )}

      {orders.data && shown.length === 0 && (
        <Paper withBorder p="xl" data-testid="trips-empty">
          <Stack align="center" gap="xs">
            <IconTicket size={40} color="var(--mantine-color-gray-5)" aria-hidden />
            <Text fw={600}>{tab === "past" ? "No past trips" : "No upcoming trips"}</Text>
            <Button component={Link} to="/" variant="light">
              Search flights
            </Button>
          </Stack>
        </Paper>
      )}

      {shown.map((order) => (
        <TripCard key={order.id} order={order} onCancel={() => setCancelling(order)} />
      ))}

      <CancelOrderDialog order={cancelling} onClose={() => setCancelling(null)} />
    </Stack>
  );
}

function TripCard({ order, onCancel }: { order: Order; onCancel: () => void }) {
  const timezoneOf = useTimezoneLookup();
  const first = order.slices[0]?.flights[0];
  const lastSlice = order.slices[0]?.flights ?? [];
  const last = lastSlice[lastSlice.length - 1];
  return (
    <Card withBorder component="article" data-testid="trip" data-status={order.status} data-reference={order.reference}>
      <NeedsAttentionBanner order={order} />
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
        <Stack gap={6} style={{ flex: "1 1 300px", minWidth: 0 }}>
          <Group gap="xs" wrap="wrap">
            <Text fw={700}>
              {first?.source} → {last?.destination}
              {order.slices.length === 2 ? " (return)" : ""}
            </Text>
            <Badge color={ORDER_STATUS_COLORS[order.status]} data-testid="trip-status">
              {order.status}
            </Badge>
            {order.needs_attention && order.status !== "CANCELLED" && (
              <Badge color="orange" variant="light">
                Schedule changed
              </Badge>
            )}
          </Group>
          <Text size="xs" c="dimmed">
            Reference{" "}
            <Anchor component={Link} to={`/trips/${order.id}`} ff="monospace" fw={700} size="xs" data-testid="trip-reference">
              {order.reference}
            </Anchor>{" "}
            · {order.passengers.length} {order.passengers.length === 1 ? "passenger" : "passengers"}
          </Text>
          {order.status === "HELD" && order.payment_required_by && (
            <Text size="sm" c="yellow.9" data-testid="trip-deadline">
              Pay by {formatDateTime(order.payment_required_by, here())}
            </Text>
          )}
          {order.status === "CANCELLED" && order.refund_amount !== null && (
            <Text size="sm" c="dimmed" data-testid="trip-refund">
              Refunded {formatPrice(order.refund_amount)}
            </Text>
          )}
          {order.slices.flatMap((slice) => slice.flights).map((flight) => (
            <Leg key={flight.id} flight={flight} timezoneOf={timezoneOf} />
          ))}
        </Stack>
        <Stack gap={6} align="flex-end" style={{ marginLeft: "auto" }}>
          <Text fw={800} size="lg" className="tabular">
            {formatPrice(order.total_price)}
          </Text>
          {canPay(order) && <PayOrderButton order={order} size="xs" />}
          <Button component={Link} to={`/trips/${order.id}`} variant="default" size="xs" data-testid="trip-open">
            Details
          </Button>
          {canCancel(order) && (
            <Button variant="light" color="red" size="xs" onClick={onCancel} data-testid="cancel-trip">
              Cancel
            </Button>
          )}
        </Stack>
      </Group>
    </Card>
  );
}
