import { Alert, Group, Paper, Progress, ScrollArea, Stack, Table, Text, TextInput } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { IconAlertCircle } from "@tabler/icons-react";
import { useState } from "react";

import { formatPrice } from "../../lib/money";
import { formatLoadFactor, isoDay, loadFactor, loadFactorColor } from "../../lib/operations";
import * as ops from "../../services/operations";
import { errorMessage } from "../../services/errors";

/** Load factor and revenue per route and day over a date range (today and the next 6 days at first). */
export default function RouteStats() {
  const [from, setFrom] = useState(() => isoDay(new Date()));
  const [to, setTo] = useState(() => isoDay(new Date(), 6));
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(from) && /^\d{4}-\d{2}-\d{2}$/.test(to) && from <= to;
  const stats = useQuery({
    queryKey: ["admin", "operations", "routes", from, to],
    queryFn: () => ops.routeStats(from, to),
    enabled: valid,
    placeholderData: keepPreviousData,
  });

  return (
    <Stack gap="sm">
      <Group gap="sm" wrap="wrap" align="flex-end">
        <TextInput type="date" label="From" value={from} onChange={(e) => setFrom(e.currentTarget.value)} w={{ base: "100%", xs: 170 }} data-testid="routes-from" />
        <TextInput type="date" label="To" value={to} onChange={(e) => setTo(e.currentTarget.value)} w={{ base: "100%", xs: 170 }} data-testid="routes-to" error={valid ? undefined : "Pick a range"} />
      </Group>
      {stats.isError && (
        <Alert color="red" icon={<IconAlertCircle />} role="alert">
          {errorMessage(stats.error)}
        </Alert>
      )}
      <Paper withBorder>
        {/* A scroll container of its own: the page never scrolls sideways on a phone. */}
        <ScrollArea type="auto">
          <Table striped miw={620} data-testid="route-stats" aria-busy={stats.isFetching}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Day</Table.Th>
                <Table.Th>Route</Table.Th>
                <Table.Th ta="right">Flights</Table.Th>
                <Table.Th ta="right">Sold / seats</Table.Th>
                <Table.Th>Load factor</Table.Th>
                <Table.Th ta="right">Revenue</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {stats.data?.items.map((row) => {
                const factor = loadFactor(row.seats_sold, row.seats);
                return (
                  <Table.Tr key={`${row.day}|${row.source}|${row.destination}`} data-testid="route-row">
                    <Table.Td className="tabular" style={{ whiteSpace: "nowrap" }}>
                      {row.day}
                    </Table.Td>
                    <Table.Td>
                      {row.source} → {row.destination}
                    </Table.Td>
                    <Table.Td ta="right" className="tabular">
                      {row.flights}
                      {row.cancelled_flights > 0 && (
                        <Text span size="xs" c="red">
                          {" "}
                          ({row.cancelled_flights} cancelled)
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td ta="right" className="tabular">
                      {row.seats_sold} / {row.seats}
                    </Table.Td>
                    <Table.Td>
                      <Group gap="xs" wrap="nowrap">
                        <Progress value={factor * 100} color={loadFactorColor(factor)} w={70} aria-hidden />
                        <Text size="sm" className="tabular" data-testid="route-load">
                          {formatLoadFactor(factor)}
                        </Text>
                      </Group>
                    </Table.Td>
                    <Table.Td ta="right" className="tabular" data-testid="route-revenue">
                      {formatPrice(row.revenue)}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
              {stats.data && stats.data.items.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={6}>
                    <Text c="dimmed" ta="center" py="md">
                      No flights in these days.
                    </Text>
                  </Table.Td>
                </Table.Tr>
              )}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      </Paper>
    </Stack>
  );
}
