import { ActionIcon, Badge, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { IconBan, IconUsers } from "@tabler/icons-react";
import { useState } from "react";

import { formatPrice } from "../../lib/money";
import type { Flight } from "../../types";
import CancelFlightDialog from "./CancelFlightDialog";
import FlightManifest from "./FlightManifest";

export function isCancelled(flight: Flight): boolean {
  return flight.status === "CANCELLED";
}

/** "CANCELLED" next to a flight the airline cancelled; nothing for a scheduled one. */
export function FlightStatusBadge({ flight }: { flight: Flight }) {
  if (!isCancelled(flight)) return null;
  return (
    <Badge color="red" variant="light" size="sm" data-testid="flight-status">
      Cancelled
    </Badge>
  );
}

/** A flight row's "Manifest" and "Cancel flight" actions, with the dialogs they open. */
export default function FlightOpsActions({ flight }: { flight: Flight }) {
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<"manifest" | "cancel" | null>(null);
  const cancelled = isCancelled(flight);

  return (
    <>
      <Tooltip label="Manifest">
        <ActionIcon
          variant="subtle"
          aria-label={`Manifest of ${flight.flight_number}`}
          onClick={() => setOpen("manifest")}
          data-testid="manifest-flight"
        >
          <IconUsers size={18} />
        </ActionIcon>
      </Tooltip>
      <Tooltip label={cancelled ? "Already cancelled" : "Cancel flight"}>
        <ActionIcon
          variant="subtle"
          color="orange"
          disabled={cancelled}
          aria-label={`Cancel flight ${flight.flight_number}`}
          onClick={() => setOpen("cancel")}
          data-testid="cancel-flight"
        >
          <IconBan size={18} />
        </ActionIcon>
      </Tooltip>
      <FlightManifest flight={open === "manifest" ? flight : null} onClose={() => setOpen(null)} />
      <CancelFlightDialog
        flight={open === "cancel" ? flight : null}
        onClose={() => setOpen(null)}
        onCancelled={(result) => {
          setOpen(null);
          notifications.show({
            color: "green",
            title: `Flight ${flight.flight_number} cancelled`,
            message: `${result.orders_cancelled} orders cancelled, ${result.passengers} passengers notified, ${formatPrice(result.refund_total)} refunded`,
          });
          void queryClient.invalidateQueries({ queryKey: ["admin"] });
          void queryClient.invalidateQueries({ queryKey: ["search"] });
        }}
      />
    </>
  );
}
