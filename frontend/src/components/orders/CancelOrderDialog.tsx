import { Alert, Button, Group, Loader, Modal, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { IconAlertCircle } from "@tabler/icons-react";

import { formatPrice } from "../../lib/money";
import { formatDateTime } from "../../lib/time";
import * as api from "../../services/api";
import { errorMessage } from "../../services/errors";
import type { Order } from "../../types";

interface Props {
  order: Order | null;
  onClose: () => void;
}

/** Cancel shows the refund first (GET cancellation-quote), then cancels on confirmation. */
export default function CancelOrderDialog({ order, onClose }: Props) {
  const queryClient = useQueryClient();
  const quote = useQuery({
    queryKey: ["orders", order?.id, "quote"],
    queryFn: () => api.cancellationQuote(order!.id),
    enabled: order !== null,
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
  const cancel = useMutation({
    mutationFn: (id: string) => api.cancelOrder(id),
    onSuccess: (cancelled) => {
      notifications.show({
        color: "green",
        title: "Trip cancelled",
        message: `${cancelled.reference}: refund ${formatPrice(cancelled.refund_amount ?? 0)}`,
      });
      queryClient.setQueryData(["orders", cancelled.id], cancelled);
      void queryClient.invalidateQueries({ queryKey: ["orders"] });
      void queryClient.invalidateQueries({ queryKey: ["search"] });
      cancel.reset();
      onClose();
    },
  });
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;

  return (
    <Modal
      opened={order !== null}
      onClose={() => {
        cancel.reset();
        onClose();
      }}
      title={order ? `Cancel trip ${order.reference}?` : "Cancel trip"}
      centered
      data-testid="cancel-dialog"
    >
      {order && (
        <Stack>
          {quote.isPending && (
            <Group gap="xs">
              <Loader size="xs" aria-label="Loading the refund" />
              <Text size="sm">Working out your refund…</Text>
            </Group>
          )}
          {quote.isError && (
            <Alert color="red" icon={<IconAlertCircle />} role="alert" data-testid="cancel-quote-error">
              {errorMessage(quote.error)}
            </Alert>
          )}
          {quote.data && (
            <Stack gap={4} data-testid="cancel-quote">
              <Text size="sm">
                {order.status === "HELD" ? "The hold is released. " : ""}Refund:{" "}
                <Text span fw={800} className="tabular" data-testid="cancel-refund">
                  {formatPrice(quote.data.refund_amount)}
                </Text>{" "}
                of {formatPrice(order.total_price)}.
              </Text>
              <Text size="xs" c="dimmed" data-testid="cancel-quote-valid">
                This refund applies if you cancel before {formatDateTime(quote.data.expires_at, here)}. All flights of the trip
                are cancelled together and the seats released; this cannot be undone.
              </Text>
            </Stack>
          )}
          {cancel.isError && (
            <Alert color="red" icon={<IconAlertCircle />} role="alert" data-testid="cancel-error">
              {errorMessage(cancel.error)}
            </Alert>
          )}
          <Group justify="flex-end" wrap="wrap">
            <Button variant="default" onClick={onClose}>
              Keep trip
            </Button>
            <Button
              color="red"
              disabled={!quote.data}
              loading={cancel.isPending}
              onClick={() => cancel.mutate(order.id)}
              data-testid="confirm-cancel"
            >
              Cancel trip
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
