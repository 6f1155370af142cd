import { Alert, Anchor, Badge, Button, Group, Paper, Skeleton, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { IconAlertCircle, IconBellOff } from "@tabler/icons-react";
import { useEffect, useRef } from "react";
import { Link } from "react-router-dom";

import NeedsAttentionBanner from "../components/NeedsAttentionBanner";
import { UNREAD_KEY } from "../components/NotificationBell";
import * as ops from "../services/operations";
import { errorMessage } from "../services/errors";
import type { NotificationKind, UserNotification } from "../types/operations";

const KIND: Record<NotificationKind, { label: string; color: string }> = {
  order_confirmed: { label: "Confirmed", color: "green" },
  hold_expiring: { label: "Hold expiring", color: "yellow" },
  hold_expired: { label: "Hold expired", color: "gray" },
  order_cancelled: { label: "Cancelled", color: "gray" },
  flight_cancelled: { label: "Flight cancelled", color: "red" },
  schedule_changed: { label: "Schedule change", color: "orange" },
};
const when = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** A schedule change's order, when it still needs the traveller: its banner with the refund option. */
function Attention({ orderId }: { orderId: string }) {
  const order = useQuery({ queryKey: ["orders", orderId], queryFn: () => ops.order(orderId) });
  return order.data ? <NeedsAttentionBanner order={order.data} /> : null;
}

function Item({ notification }: { notification: UserNotification }) {
  const kind = KIND[notification.kind] ?? { label: notification.kind, color: "gray" };
  return (
    <Paper
      withBorder
      p="sm"
      data-testid="notification"
      data-kind={notification.kind}
      data-read={String(notification.read)}
      style={notification.read ? undefined : { borderLeft: "4px solid var(--mantine-color-indigo-6)" }}
    >
      <Stack gap={4}>
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs" wrap="wrap" style={{ minWidth: 0 }}>
            <Badge color={kind.color} variant="light">
              {kind.label}
            </Badge>
            {!notification.read && (
              <Badge color="indigo" variant="filled" size="xs">
                New
              </Badge>
            )}
          </Group>
          <Text size="xs" c="dimmed" className="tabular">
            {when.format(new Date(notification.created_at))}
          </Text>
        </Group>
        <Text fw={600} style={{ overflowWrap: "anywhere" }}>
          {notification.subject}
        </Text>
        <Text size="sm" style={{ whiteSpace: "pre-line", overflowWrap: "anywhere" }}>
          {notification.body}
        </Text>
        {notification.kind === "schedule_changed" && notification.order_id && <Attention orderId={notification.order_id} />}
        {notification.order_id && (
          <Anchor component={Link} to={`/trips/${notification.order_id}`} size="sm" data-testid="notification-trip">
            View trip
          </Anchor>
        )}
      </Stack>
    </Paper>
  );
}

/** The traveller's notifications, newest first; opening the page marks them read (the badge clears). */
export default function NotificationsPage() {
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: ["notifications", "list"], queryFn: ops.notificationsList });
  const markRead = useMutation({
    mutationFn: ops.markNotificationsRead,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: UNREAD_KEY }),
  });
  // Once per visit: the list keeps showing which ones were new until the next visit.
  const marked = useRef(false);
  const hasUnread = list.data?.some((n) => !n.read) ?? false;
  useEffect(() => {
    if (hasUnread && !marked.current) {
      marked.current = true;
      markRead.mutate();
    }
  }, [hasUnread, markRead]);

  return (
    <Stack py="md" gap="md">
      <Title order={2}>Notifications</Title>
      {list.isPending && <Skeleton height={90} radius="md" />}
      {list.isError && (
        <Alert color="red" icon={<IconAlertCircle />} role="alert">
          <Stack gap="xs" align="flex-start">
            <Text size="sm">{errorMessage(list.error)}</Text>
            <Button size="xs" variant="white" color="red" onClick={() => void list.refetch()}>
              Try again
            </Button>
          </Stack>
        </Alert>
      )}
      {list.data && list.data.length === 0 && (
        <Paper withBorder p="xl" ta="center" data-testid="notifications-empty">
          <Stack align="center" gap="xs">
            <IconBellOff size={32} aria-hidden />
            <Text c="dimmed">Nothing yet. Confirmations, cancellations and schedule changes appear here.</Text>
          </Stack>
        </Paper>
      )}
      <Stack gap="sm" data-testid="notifications">
        {list.data?.map((n) => <Item key={n.id} notification={n} />)}
      </Stack>
    </Stack>
  );
}
