import { Alert, Button, Stack } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { IconCreditCard } from "@tabler/icons-react";

import { formatPrice } from "../../lib/money";
import * as api from "../../services/api";
import { ApiError, errorMessage } from "../../services/errors";
import type { Order } from "../../types";

/** Pays a HELD order; a declined payment leaves it HELD until its deadline, so the button stays. */
export default function PayOrderButton({ order, size = "sm" }: { order: Order; size?: "xs" | "sm" | "md" }) {
  const queryClient = useQueryClient();
  const pay = useMutation({
    mutationFn: () => api.payOrder(order.id),
    onSuccess: (paid) => {
      queryClient.setQueryData(["orders", paid.id], paid);
      void queryClient.invalidateQueries({ queryKey: ["orders"] });
    },
    // A declined payment (402) leaves the order HELD; a 409 means the hold expired meanwhile: reload either way.
    onError: () => void queryClient.invalidateQueries({ queryKey: ["orders"] }),
  });
  return (
    <Stack gap={6} align="flex-start" className="no-print">
      <Button
        size={size}
        leftSection={<IconCreditCard size={16} />}
        loading={pay.isPending}
        onClick={() => pay.mutate()}
        data-testid="pay-order"
      >
        Pay {formatPrice(order.total_price)}
      </Button>
      {pay.isError && (
        <Alert color="red" role="alert" data-testid="pay-error" py={6}>
          {pay.error instanceof ApiError && pay.error.status === 402
            ? "The payment was declined and nothing was charged. The seats stay held until the deadline: you can try again."
            : errorMessage(pay.error)}
        </Alert>
      )}
    </Stack>
  );
}
