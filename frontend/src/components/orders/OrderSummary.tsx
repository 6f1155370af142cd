import { Alert, Badge, Group, Stack, Text, Title } from "@mantine/core";
import { IconAlertTriangle, IconClockHour4 } from "@tabler/icons-react";
import type { ReactNode } from "react";

import { formatPrice } from "../../lib/money";
import { ORDER_STATUS_COLORS } from "../../lib/orders";
import { formatDateTime, type TimezoneLookup } from "../../lib/time";
import type { Order } from "../../types";
import PassengerList from "./PassengerList";
import SliceSummary from "./SliceSummary";

const here = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** An order as the traveller keeps it: the reference big, status, deadline or refund, flights, passengers. */
export default function OrderSummary({ order, timezoneOf, actions }: { order: Order; timezoneOf: TimezoneLookup; actions?: ReactNode }) {
  return (
    <Stack gap="md" data-testid="order" data-status={order.status}>
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
        <Stack gap={0}>
          <Text size="sm" c="dimmed">
            Booking reference
          </Text>
          <Title order={2} ff="monospace" fz={40} lts={4} data-testid="order-reference">
            {order.reference}
          </Title>
        </Stack>
        <Stack gap={4} align="flex-end" style={{ marginLeft: "auto" }}>
          <Badge size="lg" color={ORDER_STATUS_COLORS[order.status]} data-testid="order-status">
            {order.status}
          </Badge>
          <Text fw={800} size="xl" className="tabular" data-testid="order-total-price">
            {formatPrice(order.total_price)}
          </Text>
        </Stack>
      </Group>

      {order.status === "HELD" && order.payment_required_by && (
        <Alert color="yellow" icon={<IconClockHour4 />} title="Held, not paid yet" data-testid="order-deadline">
          Your seats are held until {formatDateTime(order.payment_required_by, here())}. Pay before then or the hold expires
          and the seats are released.
        </Alert>
      )}
      {order.status === "EXPIRED" && (
        <Alert color="gray" icon={<IconClockHour4 />} title="Hold expired">
          The hold was not paid in time and its seats were released. Nothing was charged.
        </Alert>
      )}
      {order.status === "FAILED" && (
        <Alert color="red" title="Payment failed">
          The payment was declined, so nothing was booked and you were not charged.
        </Alert>
      )}
      {order.status === "CANCELLED" && order.refund_amount !== null && (
        <Alert color="gray" title="Cancelled" data-testid="order-refund">
          Refund: {formatPrice(order.refund_amount)}
        </Alert>
      )}
      {order.needs_attention && order.status !== "CANCELLED" && (
        <Alert color="orange" icon={<IconAlertTriangle />} title="Schedule change" data-testid="order-needs-attention">
          A flight's times changed and a connection no longer works. You may cancel for a full refund before departure.
        </Alert>
      )}

      {actions}

      <Stack gap="sm">
        {order.slices.map((slice, index) => (
          <SliceSummary
            key={index}
            label={order.slices.length === 2 ? (index === 0 ? "Outbound" : "Return") : `Flight ${index + 1}`}
            flights={slice.flights}
            timezoneOf={timezoneOf}
          />
        ))}
      </Stack>

      <Stack gap={4}>
        <Title order={3} size="h5">
          Passengers
        </Title>
        <PassengerList passengers={order.passengers} />
        <Text size="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          Contact: {order.contact.email} · booked {formatDateTime(order.created_at, here())}
        </Text>
      </Stack>
    </Stack>
  );
}
