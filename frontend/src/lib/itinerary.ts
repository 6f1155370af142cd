import type { Itinerary } from "../types";
import { minutesBetween } from "./time";

export interface Layover {
  airport: string;
  minutes: number;
}

export function layovers(itinerary: Itinerary): Layover[] {
  return itinerary.flights.slice(1).map((flight, index) => {
    const previous = itinerary.flights[index]!;
    return { airport: flight.source, minutes: minutesBetween(previous.arrival_ts, flight.departure_ts) };
  });
}

export function stopsLabel(stops: number): string {
  if (stops === 0) return "Non-stop";
  return stops === 1 ? "1 stop" : `${stops} stops`;
}

/** Seats still bookable on the whole itinerary: its fullest leg decides. */
export function seatsLeft(itinerary: Itinerary): number {
  return Math.min(...itinerary.flights.map((f) => f.available_seats));
}

export function itineraryKey(itinerary: Itinerary): string {
  return itinerary.flights.map((f) => f.id).join("+");
}
