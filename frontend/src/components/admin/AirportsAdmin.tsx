import { ActionIcon, Alert, Autocomplete, Badge, Button, Group, Paper, ScrollArea, Skeleton, Table, Text, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { IconAlertCircle, IconPencil } from "@tabler/icons-react";
import { useMemo, useState } from "react";

import { zoneLabel } from "../../lib/time";
import * as api from "../../services/api";
import { errorMessage } from "../../services/errors";

function allZones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC", "Asia/Kolkata"];
  }
}

export default function AirportsAdmin() {
  const queryClient = useQueryClient();
  const airports = useQuery({ queryKey: ["admin", "airports"], queryFn: api.adminAirports });
  const zones = useMemo(() => allZones(), []);
  const [editing, setEditing] = useState<string | null>(null);
  const [zone, setZone] = useState("");

  const save = useMutation({
    mutationFn: ({ name, timezone }: { name: string; timezone: string }) => api.setAirportTimezone(name, timezone),
    onSuccess: (airport) => {
      setEditing(null);
      notifications.show({ color: "green", message: `${airport.name} now uses ${airport.timezone}` });
      void queryClient.invalidateQueries({ queryKey: ["admin"] });
      void queryClient.invalidateQueries({ queryKey: ["search"] });
    },
  });

  if (airports.isPending) return <Skeleton height={200} />;
  if (airports.isError) {
    return (
      <Alert color="red" icon={<IconAlertCircle />} role="alert">
        {errorMessage(airports.error)}
      </Alert>
    );
  }

  return (
    <Paper withBorder>
      <Text size="sm" c="dimmed" p="sm">
        Search reads a travel date in the origin airport's local time, and times are shown in each airport's zone. Every IATA
        airport comes with its zone; a zone set here overrides it, and names no data set knows use the server's default.
      </Text>
      <ScrollArea type="auto">
        <Table miw={{ base: 0, sm: 560 }} data-testid="airports-table" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Airport</Table.Th>
              <Table.Th>Timezone</Table.Th>
              <Table.Th aria-label="Actions" />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {airports.data.map((airport) => (
              <Table.Tr key={airport.name} data-testid="airport-row" data-airport={airport.name}>
                <Table.Td>
                  <Text size="sm" fw={500}>
                    {airport.name}
                    {airport.code && airport.code !== airport.name ? ` (${airport.code})` : ""}
                  </Text>
                  {(airport.city || airport.country) && (
                    <Text size="xs" c="dimmed" data-testid="airport-place">
                      {[airport.city, airport.country].filter(Boolean).join(", ")}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  {editing === airport.name ? (
                    <form
                      onSubmit={(e) => {
                        e.preventDefault();
                        save.mutate({ name: airport.name, timezone: zone.trim() });
                      }}
                    >
                      <Group gap="xs" wrap="wrap">
                        <Autocomplete
                          aria-label={`Timezone for ${airport.name}`}
                          data={zones}
                          limit={10}
                          value={zone}
                          onChange={setZone}
                          error={save.isError ? errorMessage(save.error) : undefined}
                          data-testid="airport-timezone-input"
                          autoFocus
                          w={{ base: "100%", xs: 240 }}
                        />
                        <Button type="submit" size="xs" loading={save.isPending} data-testid="airport-timezone-save">
                          Save
                        </Button>
                        <Button size="xs" variant="default" onClick={() => setEditing(null)}>
                          Cancel
                        </Button>
                      </Group>
                    </form>
                  ) : (
                    <Group gap="xs">
                      <Text size="sm" data-testid="airport-timezone">
                        {airport.timezone}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {zoneLabel(airport.timezone)}
                      </Text>
                      {airport.is_default && (
                        <Badge size="xs" variant="light" color="gray">
                          {airport.code ? "IATA data" : "default"}
                        </Badge>
                      )}
                    </Group>
                  )}
                </Table.Td>
                <Table.Td ta="right">
                  {editing !== airport.name && (
                    <Tooltip label="Change timezone">
                      <ActionIcon
                        variant="subtle"
                        aria-label={`Change timezone of ${airport.name}`}
                        onClick={() => {
                          save.reset();
                          setZone(airport.timezone);
                          setEditing(airport.name);
                        }}
                        data-testid="airport-edit"
                      >
                        <IconPencil size={18} />
                      </ActionIcon>
                    </Tooltip>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea>
    </Paper>
  );
}
