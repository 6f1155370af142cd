import { Alert, Badge, Button, Grid, Group, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconAlertCircle, IconArrowRight } from "@tabler/icons-react";
import { useNavigate, useSearchParams } from "react-router-dom";

import SliceSummary from "../components/orders/SliceSummary";
import TripLoader, { type LoadedTrip } from "../components/orders/TripLoader";
import {
  PASSENGER_LABELS,
  passengerTypeFor,
  selectionKey,
  validateBirthDate,
  validateEmail,
  validateName,
  validateParty,
  type PassengerDraft,
} from "../lib/orders";
import { loadDraft, saveDraft } from "../lib/passengerDraft";
import { localDate } from "../lib/time";
import { useTimezoneLookup } from "../services/hooks";
import type { Itinerary } from "../types";

export function useFirstDay(): (itinerary: Itinerary) => string {
  const timezoneOf = useTimezoneLookup();
  // Ages count on the first departure's local day at its airport.
  return (itinerary) => {
    const first = itinerary.flights[0]!;
    return localDate(first.departure_ts, timezoneOf(first.source));
  };
}

export default function TripPassengersPage() {
  const firstDay = useFirstDay();
  return <TripLoader firstDay={firstDay}>{(trip) => <PassengersForm trip={trip} />}</TripLoader>;
}

const blank: PassengerDraft = { given_name: "", family_name: "", born_on: "" };

function PassengersForm({ trip }: { trip: LoadedTrip }) {
  const { selection, slices, firstDeparture } = trip;
  const timezoneOf = useTimezoneLookup();
  const navigate = useNavigate();
  const [url] = useSearchParams();
  const key = selectionKey(selection);
  const draft = loadDraft(key, selection.seats);

  const form = useForm({
    mode: "controlled",
    initialValues: {
      passengers: draft?.passengers ?? Array.from({ length: selection.seats }, () => ({ ...blank })),
      email: draft?.email ?? "",
      party: "",
    },
    validate: {
      passengers: {
        given_name: (v) => validateName(v, "given name"),
        family_name: (v) => validateName(v, "family name"),
        born_on: (v) => validateBirthDate(v, firstDeparture),
      },
      email: (v) => validateEmail(v),
      party: (_v, values) => {
        if (values.passengers.some((p) => validateBirthDate(p.born_on, firstDeparture) !== null)) return null;
        return validateParty(values.passengers.map((p) => passengerTypeFor(p.born_on, firstDeparture)));
      },
    },
    onValuesChange: (values) => saveDraft(key, { passengers: values.passengers, email: values.email }),
  });

  const submit = form.onSubmit((values) => {
    saveDraft(key, { passengers: values.passengers, email: values.email.trim() });
    navigate(`/trip/review?${url.toString()}`);
  });

  const typeOf = (born: string) => (validateBirthDate(born, firstDeparture) === null ? passengerTypeFor(born, firstDeparture) : null);

  return (
    <form onSubmit={submit} noValidate aria-label="Passengers">
    <Stack maw={760} mx="auto" py="md" gap="md" data-testid="passengers-page">
      <Stack gap={2}>
        <Text size="sm" c="dimmed">
          Step 1 of 2
        </Text>
        <Title order={2}>Who is travelling?</Title>
        <Text size="sm" c="dimmed">
          Names as on the passport or ID. The type follows the age on {firstDeparture}: adult 12+, child 2–11, infant under 2
          (on an adult's lap, one per adult).
        </Text>
      </Stack>

      {slices.map((itinerary, index) => (
        <SliceSummary
          key={index}
          label={index === 0 ? "Outbound" : "Return"}
          flights={itinerary.flights}
          timezoneOf={timezoneOf}
        />
      ))}

      {form.values.passengers.map((passenger, index) => {
        const type = typeOf(passenger.born_on);
        return (
          <Paper withBorder p="md" key={index} data-testid="passenger-form">
            <Group justify="space-between" mb="xs">
              <Text fw={600}>Passenger {index + 1}</Text>
              {type && (
                <Badge variant="light" data-testid="passenger-type">
                  {PASSENGER_LABELS[type]}
                </Badge>
              )}
            </Group>
            <Grid gap="sm">
              <Grid.Col span={{ base: 12, sm: 4 }}>
                <TextInput
                  label="Given name"
                  autoComplete={index === 0 ? "given-name" : "off"}
                  maxLength={64}
                  data-testid={`passenger-${index}-given`}
                  {...form.getInputProps(`passengers.${index}.given_name`)}
                />
              </Grid.Col>
              <Grid.Col span={{ base: 12, sm: 4 }}>
                <TextInput
                  label="Family name"
                  autoComplete={index === 0 ? "family-name" : "off"}
                  maxLength={64}
                  data-testid={`passenger-${index}-family`}
                  {...form.getInputProps(`passengers.${index}.family_name`)}
                />
              </Grid.Col>
              <Grid.Col span={{ base: 12, sm: 4 }}>
                <TextInput
                  type="date"
                  label="Date of birth"
                  max={firstDeparture}
                  data-testid={`passenger-${index}-born`}
                  {...form.getInputProps(`passengers.${index}.born_on`)}
                />
              </Grid.Col>
            </Grid>
          </Paper>
        );
      })}

      {form.errors.party && (
        <Alert color="red" icon={<IconAlertCircle />} role="alert" data-testid="party-error">
          {form.errors.party}
        </Alert>
      )}

      <Paper withBorder p="md">
        <TextInput
          type="email"
          label="Contact e-mail"
          description="The confirmation and any changes to the trip are sent here."
          autoComplete="email"
          maxLength={254}
          data-testid="contact-email"
          {...form.getInputProps("email")}
        />
      </Paper>

      <Group justify="flex-end">
        <Button type="submit" rightSection={<IconArrowRight size={18} />} data-testid="passengers-continue">
          Review and pay
        </Button>
      </Group>
    </Stack>
    </form>
  );
}
