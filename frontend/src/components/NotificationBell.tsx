import { ActionIcon, Indicator, Tooltip } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { IconBell } from "@tabler/icons-react";
import { Link } from "react-router-dom";

import { badgeLabel } from "../lib/operations";
import { useAuth } from "../services/auth";
import * as ops from "../services/operations";

export const UNREAD_KEY = ["notifications", "unread"] as const;

/** The header's bell: the signed-in traveller's unread count as a badge, a link to the list. */
export default function NotificationBell({ mobile = false }: { mobile?: boolean }) {
  const { token } = useAuth();
  const unread = useQuery({
    queryKey: UNREAD_KEY,
    queryFn: ops.unreadCount,
    enabled: token !== null,
    // Airline changes arrive without the traveller doing anything: look again now and then.
    refetchInterval: 30_000,
  });
  if (!token) return null;
  const label = badgeLabel(unread.data?.unread ?? 0);
  const name = label ? `Notifications, ${unread.data?.unread} unread` : "Notifications";

  return (
    <Tooltip label={name}>
      <Indicator label={label} disabled={!label} size={16} color="red" offset={4} data-testid={mobile ? "notification-badge-mobile" : "notification-badge"} data-count={label ?? "0"}>
        <ActionIcon component={Link} to="/notifications" variant="subtle" size="lg" aria-label={name} data-testid={mobile ? "notification-bell-mobile" : "notification-bell"}>
          <IconBell size={20} />
        </ActionIcon>
      </Indicator>
    </Tooltip>
  );
}
