import { Badge, Group, Stack, Text } from "@mantine/core";

import { PASSENGER_LABELS } from "../../lib/orders";
import type { OrderPassenger } from "../../types";

export default function PassengerList({ passengers }: { passengers: OrderPassenger[] }) {
  return (
    <Stack gap={4} data-testid="passenger-list">
      {passengers.map((p, index) => (
        <Group key={index} gap="xs" wrap="wrap" data-testid="passenger">
          <Text fw={500} style={{ overflowWrap: "anywhere" }}>
            {p.given_name} {p.family_name}
          </Text>
          <Badge size="sm" variant="light" color={p.type === "adult" ? "indigo" : p.type === "child" ? "teal" : "pink"}>
            {PASSENGER_LABELS[p.type]}
          </Badge>
          <Text size="xs" c="dimmed">
            born {p.born_on}
          </Text>
        </Group>
      ))}
    </Stack>
  );
}
