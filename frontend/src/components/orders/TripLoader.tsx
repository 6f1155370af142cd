import { Alert, Button, Center, Loader, Stack, Text, Title } from "@mantine/core";
import { IconAlertCircle } from "@tabler/icons-react";
import type { ReactNode } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { selectionFromUrl, type TripSelection } from "../../lib/orders";
import { errorMessage } from "../../services/errors";
import { useTripItineraries } from "../../services/trip";
import type { Itinerary } from "../../types";

export interface LoadedTrip {
  selection: TripSelection;
  slices: Itinerary[];
  /** YYYY-MM-DD of the first departure (UTC date of the instant is not used: the age counts on the local day). */
  firstDeparture: string;
}

interface Props {
  children: (trip: LoadedTrip) => ReactNode;
  firstDay: (itinerary: Itinerary) => string;
}

/** Rebuilds the chosen trip from the URL (see services/trip.ts) and renders a step of the flow with it. */
export default function TripLoader({ children, firstDay }: Props) {
  const [url] = useSearchParams();
  const selection = selectionFromUrl(url);
  const trip = useTripItineraries(selection);

  if (!selection) {
    return (
      <Stack maw={640} mx="auto" py="xl" data-testid="trip-missing">
        <Title order={2}>Nothing to book</Title>
        <Text c="dimmed">This link does not name a trip. Search and choose your flights.</Text>
        <Button component={Link} to="/" variant="light" w="fit-content">
          Search flights
        </Button>
      </Stack>
    );
  }
  if (trip.loading) {
    return (
      <Center py="xl">
        <Loader aria-label="Loading your trip" />
      </Center>
    );
  }
  if (trip.error) {
    return (
      <Alert color="red" icon={<IconAlertCircle />} title="Could not load your flights" role="alert" maw={640} mx="auto">
        <Stack gap="xs" align="flex-start">
          <Text size="sm">{errorMessage(trip.error)}</Text>
          <Button size="xs" variant="white" color="red" onClick={trip.refetch}>
            Try again
          </Button>
        </Stack>
      </Alert>
    );
  }
  const home = new URLSearchParams(url);
  home.delete("out");
  home.delete("ret");
  if (trip.slices.some((s) => s === null)) {
    return (
      <Stack maw={640} mx="auto" py="xl" data-testid="trip-unavailable">
        <Title order={2}>These flights are no longer offered</Title>
        <Text c="dimmed">
          A flight you chose has sold out, been cancelled or departs too soon to book. Search again to pick another.
        </Text>
        <Button component={Link} to={`/?${home.toString()}`} variant="light" w="fit-content">
          Back to the search
        </Button>
      </Stack>
    );
  }
  const slices = trip.slices as Itinerary[];
  return <>{children({ selection, slices, firstDeparture: firstDay(slices[0]!) })}</>;
}
