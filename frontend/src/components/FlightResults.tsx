import { Badge, Box, Button, Card, Divider, Group, Stack, Text, Title } from "@mantine/core";
import { IconClockHour4, IconPlane } from "@tabler/icons-react";

import { formatPrice, multiplyPrice } from "../lib/money";
import { itineraryKey, layovers, seatsLeft, stopsLabel } from "../lib/itinerary";
import { dayOffset, formatDay, formatDuration, formatTime, minutesBetween, zoneLabel, type TimezoneLookup } from "../lib/time";
import type { Flight, Itinerary } from "../types";

interface Props {
  itineraries: Itinerary[];
  seats: number;
  timezoneOf: TimezoneLookup;
  onSelect: (itinerary: Itinerary) => void;
}

// The itineraries in the order the API gave them: it sorts and filters over every itinerary (the
// first 20 under the chosen order), so re-sorting these 20 here would answer a different question.
export default function FlightResults({ itineraries, seats, timezoneOf, onSelect }: Props) {
  return (
    <Stack gap="sm" data-testid="results">
      <Text c="dimmed" size="sm" data-testid="results-count" aria-live="polite">
        {itineraries.length === 1 ? "1 option" : `${itineraries.length} options`}
        {seats > 1 ? ` for ${seats} passengers` : ""}
      </Text>
      {itineraries.map((itinerary, index) => (
        <ItineraryCard
          key={itineraryKey(itinerary)}
          itinerary={itinerary}
          index={index}
          seats={seats}
          timezoneOf={timezoneOf}
          onSelect={onSelect}
        />
      ))}
    </Stack>
  );
}

interface CardProps {
  itinerary: Itinerary;
  index: number;
  seats: number;
  timezoneOf: TimezoneLookup;
  onSelect: (itinerary: Itinerary) => void;
}

export function ItineraryCard({ itinerary, index, seats, timezoneOf, onSelect }: CardProps) {
  const first = itinerary.flights[0]!;
  const left = seatsLeft(itinerary);
  const soldOut = left < seats;
  const stops = layovers(itinerary);
  const route = [first.source, ...itinerary.flights.map((f) => f.destination)].join(" → ");

  return (
    <Card
      withBorder
      shadow="xs"
      padding="md"
      data-testid="itinerary"
      data-index={index}
      data-stops={itinerary.stops}
      data-sold-out={soldOut || undefined}
      aria-label={`${route}, ${stopsLabel(itinerary.stops)}, ${formatPrice(itinerary.total_price)}`}
      component="article"
      style={soldOut ? { opacity: 0.7 } : undefined}
    >
      <Group justify="space-between" align="flex-start" wrap="wrap" gap="md">
        <Stack gap={6} style={{ flex: "1 1 340px", minWidth: 0 }}>
          <Group gap="xs">
            <Badge color={itinerary.stops === 0 ? "teal" : "indigo"} variant="light" data-testid="itinerary-stops">
              {stopsLabel(itinerary.stops)}
            </Badge>
            <Group gap={4} c="dimmed">
              <IconClockHour4 size={16} aria-hidden />
              <Text size="sm" data-testid="itinerary-duration">
                {formatDuration(itinerary.duration_minutes)} total
              </Text>
            </Group>
            {soldOut ? (
              <Badge color="red" variant="filled" data-testid="sold-out">
                Sold out
              </Badge>
            ) : left < 10 ? (
              <Badge color="orange" variant="light">
                {left === 1 ? "1 seat left" : `${left} seats left`}
              </Badge>
            ) : null}
          </Group>
          {itinerary.flights.map((flight, legIndex) => (
            <Box key={flight.id}>
              {legIndex > 0 && stops[legIndex - 1] && (
                <Text size="sm" c="orange.8" py={4} pl={28} data-testid="layover">
                  {formatDuration(stops[legIndex - 1]!.minutes)} layover in {stops[legIndex - 1]!.airport}
                </Text>
              )}
              <Leg flight={flight} timezoneOf={timezoneOf} />
            </Box>
          ))}
        </Stack>
        <Stack gap={4} align="flex-end" style={{ flex: "0 0 auto", marginLeft: "auto" }}>
          <Text fw={800} size="xl" className="tabular" data-testid="itinerary-price">
            {formatPrice(itinerary.total_price)}
          </Text>
          <Text size="xs" c="dimmed">
            per passenger
          </Text>
          {seats > 1 && (
            <Text size="sm" className="tabular" data-testid="itinerary-total">
              {formatPrice(multiplyPrice(itinerary.total_price, seats))} for {seats}
            </Text>
          )}
          <Button
            mt="xs"
            onClick={() => onSelect(itinerary)}
            disabled={soldOut}
            data-testid="select-itinerary"
            aria-label={soldOut ? `${route} is sold out` : `Select ${route} for ${formatPrice(itinerary.total_price)}`}
          >
            {soldOut ? "Sold out" : "Select"}
          </Button>
        </Stack>
      </Group>
    </Card>
  );
}

export function Leg({ flight, timezoneOf }: { flight: Flight; timezoneOf: TimezoneLookup }) {
  const fromZone = timezoneOf(flight.source);
  const toZone = timezoneOf(flight.destination);
  const days = dayOffset(flight.departure_ts, fromZone, flight.arrival_ts, toZone);
  return (
    <Group gap="sm" wrap="nowrap" align="flex-start" data-testid="leg">
      <IconPlane size={18} style={{ marginTop: 3, flex: "none", color: "var(--mantine-color-indigo-6)" }} aria-hidden />
      <Stack gap={0} style={{ minWidth: 0 }}>
        <Group gap="xs" wrap="wrap">
          <Text fw={600} className="tabular" data-testid="leg-times">
            {formatTime(flight.departure_ts, fromZone)} – {formatTime(flight.arrival_ts, toZone)}
            {days !== 0 && (
              <Text component="sup" size="xs" c="red.7" ml={2} title={`Arrives ${formatDay(flight.arrival_ts, toZone)}`}>
                {days > 0 ? `+${days}` : days}
              </Text>
            )}
          </Text>
          <Text size="sm">
            {flight.source} → {flight.destination}
          </Text>
        </Group>
        <Text size="xs" c="dimmed">
          <Text component="span" ff="monospace" size="xs" c="dark" data-testid="leg-flight-number">
            {flight.flight_number}
          </Text>{" "}
          · {formatDay(flight.departure_ts, fromZone)} · {formatDuration(minutesBetween(flight.departure_ts, flight.arrival_ts))} ·{" "}
          local times ({zoneLabel(fromZone, flight.departure_ts)}
          {toZone !== fromZone ? ` / ${zoneLabel(toZone, flight.arrival_ts)}` : ""})
        </Text>
      </Stack>
    </Group>
  );
}

export function ResultsHeading({ source, destination }: { source: string; destination: string }) {
  return (
    <>
      <Title order={3} mt="md">
        {source} → {destination}
      </Title>
      <Divider />
    </>
  );
}
