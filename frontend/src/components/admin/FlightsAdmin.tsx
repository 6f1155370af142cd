import {
  ActionIcon,
  Alert,
  Autocomplete,
  Button,
  Group,
  Modal,
  Pagination,
  Paper,
  ScrollArea,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
} from "@mantine/core";
import { useDebouncedValue, useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { IconAlertCircle, IconPencil, IconPlus, IconTrash } from "@tabler/icons-react";
import { useState } from "react";

import { formatPrice } from "../../lib/money";
import { formatDateTime, zoneLabel } from "../../lib/time";
import * as api from "../../services/api";
import { errorMessage } from "../../services/errors";
import { useAirports, useTimezoneLookup } from "../../services/hooks";
import type { Flight } from "../../types";
import FlightFormModal from "./FlightFormModal";
import FlightOpsActions, { FlightStatusBadge } from "./FlightOpsActions";

const PAGE_SIZE = 20;

export default function FlightsAdmin() {
  const queryClient = useQueryClient();
  const airports = useAirports();
  const timezoneOf = useTimezoneLookup();
  const [source, setSource] = useState("");
  const [destination, setDestination] = useState("");
  const [date, setDate] = useState("");
  const [page, setPage] = useState(1);
  const [filters] = useDebouncedValue({ source: source.trim(), destination: destination.trim(), date }, 300);
  const [editing, setEditing] = useState<Flight | "new" | null>(null);
  const [deleting, setDeleting] = useState<Flight | null>(null);

  const query = { ...filters, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE };
  const flights = useQuery({
    queryKey: ["admin", "flights", query],
    queryFn: () => api.adminFlights(query),
    placeholderData: keepPreviousData,
  });

  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["admin"] });
    void queryClient.invalidateQueries({ queryKey: ["airports"] });
    void queryClient.invalidateQueries({ queryKey: ["search"] });
  };

  const remove = useMutation({
    mutationFn: (flight: Flight) => api.deleteFlight(flight.id),
    onSuccess: (_data, flight) => {
      setDeleting(null);
      notifications.show({ color: "green", message: `Flight ${flight.flight_number} deleted` });
      refresh();
    },
  });

  const askDelete = (flight: Flight) => {
    remove.reset();
    setDeleting(flight);
  };
  // At phone width a table of seven columns cannot fit: each flight becomes a card whose Edit and
  // Delete stay on screen. Read at once (not after a first paint) so the table never flashes.
  const narrow = useMediaQuery("(max-width: 47.99em)", false, { getInitialValueInEffect: false });

  const total = flights.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const setFilter = (setter: (v: string) => void) => (value: string) => {
    setter(value);
    setPage(1);
  };

  return (
    <Stack gap="md">
      <Paper withBorder p="sm">
        <Group align="flex-end" wrap="wrap" gap="sm">
          <Autocomplete
            label="From"
            placeholder="Any"
            data={airports.data ?? []}
            value={source}
            onChange={setFilter(setSource)}
            data-testid="filter-source"
            w={{ base: "100%", xs: 180 }}
          />
          <Autocomplete
            label="To"
            placeholder="Any"
            data={airports.data ?? []}
            value={destination}
            onChange={setFilter(setDestination)}
            data-testid="filter-destination"
            w={{ base: "100%", xs: 180 }}
          />
          <TextInput
            type="date"
            label="Departure date"
            value={date}
            onChange={(e) => setFilter(setDate)(e.currentTarget.value)}
            data-testid="filter-date"
            w={{ base: "100%", xs: 170 }}
          />
          {(source || destination || date) && (
            <Button
              variant="subtle"
              onClick={() => {
                setSource("");
                setDestination("");
                setDate("");
                setPage(1);
              }}
            >
              Clear
            </Button>
          )}
          <Button leftSection={<IconPlus size={16} />} ml="auto" onClick={() => setEditing("new")} data-testid="add-flight">
            Add flight
          </Button>
        </Group>
      </Paper>

      {flights.isError && (
        <Alert color="red" icon={<IconAlertCircle />} role="alert">
          {errorMessage(flights.error)}
        </Alert>
      )}

      {narrow ? (
        <FlightCards
          flights={flights.data?.items}
          busy={flights.isFetching}
          timezoneOf={timezoneOf}
          onEdit={setEditing}
          onDelete={askDelete}
        />
      ) : (
        <Paper withBorder>
          <ScrollArea type="auto">
            <Table striped highlightOnHover miw={820} data-testid="flights-table" aria-busy={flights.isFetching}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Flight</Table.Th>
                  <Table.Th>Route</Table.Th>
                  <Table.Th>Departure</Table.Th>
                  <Table.Th>Arrival</Table.Th>
                  <Table.Th ta="right">Seats free</Table.Th>
                  <Table.Th ta="right">Price</Table.Th>
                  <Table.Th aria-label="Actions" />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {flights.data?.items.map((flight) => {
                  const fromZone = timezoneOf(flight.source);
                  const toZone = timezoneOf(flight.destination);
                  return (
                    <Table.Tr key={flight.id} data-testid="flight-row" data-flight-number={flight.flight_number}>
                      <Table.Td ff="monospace" fw={600}>
                        {flight.flight_number} <FlightStatusBadge flight={flight} />
                      </Table.Td>
                      <Table.Td>
                        {flight.source} → {flight.destination}
                      </Table.Td>
                      <Table.Td className="tabular">
                        {formatDateTime(flight.departure_ts, fromZone)}{" "}
                        <Text span size="xs" c="dimmed">
                          {zoneLabel(fromZone, flight.departure_ts)}
                        </Text>
                      </Table.Td>
                      <Table.Td className="tabular">
                        {formatDateTime(flight.arrival_ts, toZone)}{" "}
                        <Text span size="xs" c="dimmed">
                          {zoneLabel(toZone, flight.arrival_ts)}
                        </Text>
                      </Table.Td>
                      <Table.Td ta="right" className="tabular" data-testid="flight-seats">
                        {flight.available_seats} / {flight.total_seats}
                      </Table.Td>
                      <Table.Td ta="right" className="tabular" data-testid="flight-price">
                        {formatPrice(flight.price)}
                      </Table.Td>
                      <Table.Td>
                        <FlightActions flight={flight} onEdit={setEditing} onDelete={askDelete} />
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
                {flights.data && flights.data.items.length === 0 && (
                  <Table.Tr>
                    <Table.Td colSpan={7}>
                      <Text c="dimmed" ta="center" py="lg" data-testid="flights-empty">
                        No flights match these filters.
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                )}
              </Table.Tbody>
            </Table>
          </ScrollArea>
        </Paper>
      )}

      <Group justify="space-between" wrap="wrap">
        <Text size="sm" c="dimmed" data-testid="flights-total">
          {total === 1 ? "1 flight" : `${total.toLocaleString("en-IN")} flights`}
        </Text>
        {pages > 1 && (
          <Pagination
            total={pages}
            value={page}
            onChange={setPage}
            size="sm"
            siblings={narrow ? 0 : 1}
            data-testid="flights-pagination"
          />
        )}
      </Group>

      <FlightFormModal
        flight={editing === "new" ? null : editing}
        opened={editing !== null}
        onClose={() => setEditing(null)}
        onSaved={(flight, created) => {
          setEditing(null);
          notifications.show({
            color: "green",
            message: `Flight ${flight.flight_number} ${created ? "added" : "saved"}`,
          });
          refresh();
        }}
      />

      <Modal opened={deleting !== null} onClose={() => setDeleting(null)} title="Delete flight?" centered>
        {deleting && (
          <Stack>
            <Text size="sm">
              Delete <b>{deleting.flight_number}</b> ({deleting.source} → {deleting.destination})? It disappears from search at
              once. Flights with active bookings cannot be deleted.
            </Text>
            {remove.isError && (
              <Alert color="red" icon={<IconAlertCircle />} role="alert" data-testid="delete-error">
                {errorMessage(remove.error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setDeleting(null)}>
                Keep
              </Button>
              <Button color="red" loading={remove.isPending} onClick={() => remove.mutate(deleting)} data-testid="confirm-delete">
                Delete
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}

interface ActionsProps {
  flight: Flight;
  onEdit: (flight: Flight) => void;
  onDelete: (flight: Flight) => void;
}

function FlightActions({ flight, onEdit, onDelete }: ActionsProps) {
  return (
    <Group gap={4} justify="flex-end" wrap="nowrap">
      <FlightOpsActions flight={flight} />
      <Tooltip label="Edit">
        <ActionIcon variant="subtle" aria-label={`Edit ${flight.flight_number}`} onClick={() => onEdit(flight)} data-testid="edit-flight">
          <IconPencil size={18} />
        </ActionIcon>
      </Tooltip>
      <Tooltip label="Delete">
        <ActionIcon
          variant="subtle"
          color="red"
          aria-label={`Delete ${flight.flight_number}`}
          onClick={() => onDelete(flight)}
          data-testid="delete-flight"
        >
          <IconTrash size={18} />
        </ActionIcon>
      </Tooltip>
    </Group>
  );
}

interface CardsProps {
  flights: Flight[] | undefined;
  busy: boolean;
  timezoneOf: (airport: string) => string;
  onEdit: (flight: Flight) => void;
  onDelete: (flight: Flight) => void;
}

/** The flights table at phone width: one card per flight, the same test ids as the table's rows. */
function FlightCards({ flights, busy, timezoneOf, onEdit, onDelete }: CardsProps) {
  return (
    <Stack gap="xs" data-testid="flights-table" aria-busy={busy} role="list" aria-label="Flights">
      {flights?.map((flight) => {
        const fromZone = timezoneOf(flight.source);
        const toZone = timezoneOf(flight.destination);
        return (
          <Paper withBorder p="sm" key={flight.id} data-testid="flight-row" data-flight-number={flight.flight_number} role="listitem">
            <Group justify="space-between" wrap="nowrap" align="flex-start" gap="xs">
              <Stack gap={2} style={{ minWidth: 0 }}>
                <Text component="div" ff="monospace" fw={600} style={{ overflowWrap: "anywhere" }}>
                  {flight.flight_number} <FlightStatusBadge flight={flight} />
                </Text>
                <Text size="sm" style={{ overflowWrap: "anywhere" }}>
                  {flight.source} → {flight.destination}
                </Text>
              </Stack>
              <FlightActions flight={flight} onEdit={onEdit} onDelete={onDelete} />
            </Group>
            <Text size="sm" className="tabular" mt={4}>
              Departs {formatDateTime(flight.departure_ts, fromZone)}{" "}
              <Text span size="xs" c="dimmed">
                {zoneLabel(fromZone, flight.departure_ts)}
              </Text>
            </Text>
            <Text size="sm" className="tabular">
              Arrives {formatDateTime(flight.arrival_ts, toZone)}{" "}
              <Text span size="xs" c="dimmed">
                {zoneLabel(toZone, flight.arrival_ts)}
              </Text>
            </Text>
            <Group justify="space-between" mt={4}>
              <Text size="sm" c="dimmed" className="tabular">
                Seats free{" "}
                <Text span c="dark" data-testid="flight-seats">
                  {flight.available_seats} / {flight.total_seats}
                </Text>
              </Text>
              <Text fw={700} className="tabular" data-testid="flight-price">
                {formatPrice(flight.price)}
              </Text>
            </Group>
          </Paper>
        );
      })}
      {flights && flights.length === 0 && (
        <Text c="dimmed" ta="center" py="lg" data-testid="flights-empty">
          No flights match these filters.
        </Text>
      )}
    </Stack>
  );
}
