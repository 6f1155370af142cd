import { Alert, Button, Group, Loader, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { IconAlertTriangle } from "@tabler/icons-react";
import { useState } from "react";

import { formatPrice } from "../lib/money";
import * as ops from "../services/operations";
import { errorMessage } from "../services/errors";
import type { OrderForBanner } from "../types/operations";

// Orders a traveller can still cancel; a cancelled or expired one has nothing left to offer.
const ACTIVE = new Set(["CONFIRMED", "HELD", "PENDING"]);

interface Props {
  order: OrderForBanner;
  onCancelled?: (order: OrderForBanner) => void;
}

/**
 * On a trip whose schedule the airline changed so that a connection no longer works: what happened,
 * and the way out, a cancellation with a full refund (the quote is fetched and shown before confirming).
 */
export default function NeedsAttentionBanner({ order, onCancelled }: Props) {
  const queryClient = useQueryClient();
  const [asking, setAsking] = useState(false);
  const quote = useQuery({
    queryKey: ["orders", order.id, "cancellation-quote"],
    queryFn: () => ops.cancellationQuote(order.id),
    enabled: asking,
    staleTime: 0,
  });
  const cancel = useMutation({
    mutationFn: () => ops.cancelOrder(order.id),
    onSuccess: (cancelled) => {
      setAsking(false);
      notifications.show({
        color: "green",
        title: `Trip ${order.reference} cancelled`,
        message: `${formatPrice(cancelled.refund_amount ?? quote.data?.refund_amount ?? order.total_price)} will be refunded`,
      });
      void queryClient.invalidateQueries({ queryKey: ["orders"] });
      void queryClient.invalidateQueries({ queryKey: ["notifications"] });
      void queryClient.invalidateQueries({ queryKey: ["search"] });
      onCancelled?.(cancelled);
    },
  });

  if (!order.needs_attention || !ACTIVE.has(order.status)) return null;

  return (
    <Alert
      color="orange"
      icon={<IconAlertTriangle />}
      title="Your schedule has changed"
      role="alert"
      data-testid="needs-attention"
      data-reference={order.reference}
    >
      <Stack gap="xs">
        <Text size="sm">
          The airline moved a flight on trip <b>{order.reference}</b>, and one of its connections no longer leaves enough time
          to change planes. You can keep the trip, or cancel it for a full refund at any time before departure.
        </Text>
        {!asking ? (
          <Group>
            <Button color="orange" size="xs" onClick={() => setAsking(true)} data-testid="attention-cancel">
              Cancel for a full refund
            </Button>
          </Group>
        ) : (
          <Stack gap="xs" data-testid="attention-quote">
            {quote.isPending && <Loader size="xs" aria-label="Loading refund" />}
            {quote.data && (
              <Text size="sm">
                Refund: <b data-testid="attention-refund">{formatPrice(quote.data.refund_amount)}</b>, the whole amount paid.
              </Text>
            )}
            {(quote.isError || cancel.isError) && (
              <Text size="sm" c="red" role="alert">
                {errorMessage(quote.error ?? cancel.error)}
              </Text>
            )}
            <Group gap="xs" wrap="wrap">
              <Button
                color="red"
                size="xs"
                disabled={!quote.data}
                loading={cancel.isPending}
                onClick={() => cancel.mutate()}
                data-testid="attention-confirm"
              >
                Cancel trip and refund
              </Button>
              <Button variant="default" size="xs" onClick={() => setAsking(false)}>
                Keep trip
              </Button>
            </Group>
          </Stack>
        )}
      </Stack>
    </Alert>
  );
}
