import { Alert, Button, Center, Group, Loader, Paper, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { IconAlertCircle, IconCircleCheck, IconPrinter } from "@tabler/icons-react";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";

import NeedsAttentionBanner from "../components/NeedsAttentionBanner";
import CancelOrderDialog from "../components/orders/CancelOrderDialog";
import OrderSummary from "../components/orders/OrderSummary";
import PayOrderButton from "../components/orders/PayOrderButton";
import PriceBreakdownTable from "../components/orders/PriceBreakdownTable";
import { canCancel, canPay, countTypes, priceBreakdown } from "../lib/orders";
import * as api from "../services/api";
import { ApiError, errorMessage } from "../services/errors";
import { useTimezoneLookup } from "../services/hooks";
import type { Order } from "../types";

/** One order, read from the server (GET /orders/{id}): the confirmation after booking, and a trip's page later. */
export default function OrderConfirmationPage() {
  const { id = "" } = useParams();
  const timezoneOf = useTimezoneLookup();
  const [cancelling, setCancelling] = useState<Order | null>(null);
  const order = useQuery({ queryKey: ["orders", id], queryFn: () => api.getOrder(id), retry: (n, e) => !(e instanceof ApiError && e.status < 500) && n < 2 });

  if (order.isPending) {
    return (
      <Center py="xl">
        <Loader aria-label="Loading your trip" />
      </Center>
    );
  }
  if (order.isError) {
    const missing = order.error instanceof ApiError && (order.error.status === 404 || order.error.status === 422);
    return (
      <Alert color={missing ? "orange" : "red"} icon={<IconAlertCircle />} title={missing ? "No such trip" : "Could not load the trip"} role="alert" maw={640} mx="auto" data-testid="order-missing">
        <Stack gap="xs" align="flex-start">
          <Text size="sm">{missing ? "This trip is not in your account. Booked as a guest or on another account? Use Manage booking." : errorMessage(order.error)}</Text>
          <Group gap="xs">
            <Button size="xs" variant="white" component={Link} to="/trips">
              My trips
            </Button>
            <Button size="xs" variant="white" component={Link} to="/manage">
              Manage booking
            </Button>
          </Group>
        </Stack>
      </Alert>
    );
  }

  const data = order.data;
  const breakdown = priceBreakdown(
    data.slices.flatMap((s) => s.flights),
    countTypes(data.passengers.map((p) => p.type)),
  );
  return (
    <Stack maw={760} mx="auto" py="md" gap="md" data-testid="confirmation-page" className="printable">
      <NeedsAttentionBanner order={data} />
      {data.status === "CONFIRMED" && (
        <Alert color="green" icon={<IconCircleCheck />} title="Your trip is booked" data-testid="order-confirmed" className="no-print">
          Keep the reference below: with it and a passenger's family name you can find this trip under Manage booking.
        </Alert>
      )}
      <OrderSummary
        order={data}
        timezoneOf={timezoneOf}
        actions={
          <Group gap="sm" className="no-print" wrap="wrap">
            {canPay(data) && <PayOrderButton order={data} />}
            <Button variant="light" leftSection={<IconPrinter size={16} />} onClick={() => window.print()} data-testid="print-itinerary">
              Print itinerary
            </Button>
            {canCancel(data) && (
              <Button variant="subtle" color="red" onClick={() => setCancelling(data)} data-testid="cancel-order">
                Cancel trip
              </Button>
            )}
            <Button variant="subtle" component={Link} to="/trips" data-testid="go-to-trips">
              My trips
            </Button>
          </Group>
        }
      />
      <Paper withBorder p="md">
        <Text fw={600} mb="xs">
          Price breakdown
        </Text>
        <PriceBreakdownTable breakdown={breakdown} total={data.total_price} />
      </Paper>
      <CancelOrderDialog order={cancelling} onClose={() => setCancelling(null)} />
    </Stack>
  );
}
