import { Alert, Autocomplete, Button, Grid, Group, Modal, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation } from "@tanstack/react-query";
import { IconAlertCircle } from "@tabler/icons-react";
import { useEffect } from "react";

import { parsePrice, parseWholeNumber } from "../../lib/numeric";
import { utcToZoned, zoneLabel, zonedToUtc } from "../../lib/time";
import { sameAirport, validateAirport, validateFlightNumber } from "../../lib/validation";
import * as api from "../../services/api";
import { ApiError, errorMessage, humanField } from "../../services/errors";
import { useAirports, useTimezoneLookup } from "../../services/hooks";
import type { Flight, FlightInput } from "../../types";

interface Props {
  flight: Flight | null; // null: a new flight
  opened: boolean;
  onClose: () => void;
  onSaved: (flight: Flight, created: boolean) => void;
}

interface Values {
  flight_number: string;
  source: string;
  destination: string;
  departure: string; // datetime-local, in the source airport's zone
  arrival: string; // datetime-local, in the destination airport's zone
  // Text, read whole on submit: "5000" seats or "12.345" rupees are refused, never clamped or cut.
  total_seats: string;
  price: string;
}

const SEATS = { min: 1, max: 1000, unit: "seats" } as const;
const EMPTY: Values = { flight_number: "", source: "", destination: "", departure: "", arrival: "", total_seats: "180", price: "" };
const FIELD_OF: Record<string, keyof Values> = { departure_ts: "departure", arrival_ts: "arrival" };

export default function FlightFormModal({ flight, opened, onClose, onSaved }: Props) {
  const airports = useAirports();
  const timezoneOf = useTimezoneLookup();

  const form = useForm<Values>({
    mode: "controlled",
    initialValues: EMPTY,
    validate: {
      flight_number: validateFlightNumber,
      source: (v) => validateAirport(v, "the origin"),
      destination: (v, values) =>
        validateAirport(v, "the destination") ?? (sameAirport(v, values.source) ? "Must differ from the origin" : null),
      departure: (v) => (v ? null : "Enter the departure time"),
      arrival: (v, values) => {
        if (!v) return "Enter the arrival time";
        if (!values.departure || !values.source.trim() || !values.destination.trim()) return null;
        const dep = Date.parse(zonedToUtc(values.departure, timezoneOf(values.source.trim())));
        const arr = Date.parse(zonedToUtc(v, timezoneOf(values.destination.trim())));
        return arr > dep ? null : "Arrival must be after departure";
      },
      total_seats: (v) => parseWholeNumber(v, SEATS).error,
      price: (v) => parsePrice(v).error,
    },
  });


  const save = useMutation({
    mutationFn: (body: FlightInput) => (flight ? api.updateFlight(flight.id, body) : api.createFlight(body)),
    onSuccess: (saved) => onSaved(saved, flight === null),
    onError: (error) => {
      // The API's 422 names fields; put each message under its input.
      if (error instanceof ApiError) {
        for (const { field, message } of error.fieldErrors) {
          if (field) form.setFieldError(FIELD_OF[field] ?? field, message);
        }
      }
    },
  });

  useEffect(() => {
    if (!opened) return;
    save.reset();
    form.setErrors({});
    form.setValues(
      flight
        ? {
            flight_number: flight.flight_number,
            source: flight.source,
            destination: flight.destination,
            departure: utcToZoned(flight.departure_ts, timezoneOf(flight.source)),
            arrival: utcToZoned(flight.arrival_ts, timezoneOf(flight.destination)),
            total_seats: String(flight.total_seats),
            price: String(flight.price),
          }
        : EMPTY,
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [opened, flight]);

  const submit = form.onSubmit((values) => {
    const source = values.source.trim();
    const destination = values.destination.trim();
    save.mutate({
      flight_number: values.flight_number.trim(),
      source,
      destination,
      departure_ts: zonedToUtc(values.departure, timezoneOf(source)),
      arrival_ts: zonedToUtc(values.arrival, timezoneOf(destination)),
      total_seats: parseWholeNumber(values.total_seats, SEATS).value!,
      price: parsePrice(values.price).value!,
    });
  });

  const { source, destination } = form.getValues();
  const fromZone = timezoneOf(source.trim());
  const toZone = timezoneOf(destination.trim());
  const unplaced = save.error instanceof ApiError ? save.error.fieldErrors.filter((e) => !e.field || !(e.field in form.getValues() || e.field in FIELD_OF)) : [];
  const showGeneral = save.isError && (!(save.error instanceof ApiError) || save.error.fieldErrors.length === 0 || unplaced.length > 0);

  return (
    <Modal opened={opened} onClose={onClose} title={flight ? `Edit ${flight.flight_number}` : "Add a flight"} size="lg" centered>
      <form onSubmit={submit} noValidate aria-label={flight ? "Edit flight" : "Add flight"} data-testid="flight-form">
        <Stack>
          {showGeneral && (
            <Alert color="red" icon={<IconAlertCircle />} role="alert" data-testid="flight-form-error">
              {unplaced.length > 0
                ? unplaced.map((e) => (e.field ? `${humanField(e.field)}: ${e.message}` : e.message)).join("; ")
                : errorMessage(save.error)}
            </Alert>
          )}
          <Grid gap="sm">
            <Grid.Col span={{ base: 12, sm: 4 }}>
              <TextInput label="Flight number" placeholder="AI-202" data-testid="ff-number" {...form.getInputProps("flight_number")} />
            </Grid.Col>
            <Grid.Col span={{ base: 12, sm: 4 }}>
              <Autocomplete label="From" data={airports.data ?? []} data-testid="ff-source" {...form.getInputProps("source")} />
            </Grid.Col>
            <Grid.Col span={{ base: 12, sm: 4 }}>
              <Autocomplete label="To" data={airports.data ?? []} data-testid="ff-destination" {...form.getInputProps("destination")} />
            </Grid.Col>
            <Grid.Col span={{ base: 12, sm: 6 }}>
              <TextInput
                type="datetime-local"
                label="Departure"
                description={`Local time at the origin (${zoneLabel(fromZone)}, ${fromZone})`}
                data-testid="ff-departure"
                {...form.getInputProps("departure")}
              />
            </Grid.Col>
            <Grid.Col span={{ base: 12, sm: 6 }}>
              <TextInput
                type="datetime-local"
                label="Arrival"
                description={`Local time at the destination (${zoneLabel(toZone)}, ${toZone})`}
                data-testid="ff-arrival"
                {...form.getInputProps("arrival")}
              />
            </Grid.Col>
            <Grid.Col span={{ base: 12, sm: 6 }}>
              <TextInput
                label="Total seats"
                description={flight ? `${flight.total_seats - flight.available_seats} sold or held` : "1 to 1,000"}
                inputMode="numeric"
                autoComplete="off"
                data-testid="ff-seats"
                {...form.getInputProps("total_seats")}
              />
            </Grid.Col>
            <Grid.Col span={{ base: 12, sm: 6 }}>
              <TextInput
                label="Price (₹)"
                description="Per seat, up to 2 decimals"
                inputMode="decimal"
                autoComplete="off"
                data-testid="ff-price"
                {...form.getInputProps("price")}
              />
            </Grid.Col>
          </Grid>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending} data-testid="ff-submit">
              {flight ? "Save changes" : "Add flight"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
