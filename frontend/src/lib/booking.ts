import type { Booking, BookingGroup, BookingResult, BookingStatus } from "../types";

export function isGroup(result: BookingResult): result is BookingGroup {
  return "bookings" in result && Array.isArray(result.bookings);
}

export interface Outcome {
  status: BookingStatus;
  /** The id the reference is made from: the first leg's booking, the same on every page. */
  id: string;
  bookings: Booking[];
}

function byDeparture(bookings: Booking[]): Booking[] {
  return [...bookings].sort((a, b) => Date.parse(a.flight.departure_ts) - Date.parse(b.flight.departure_ts));
}

export function outcomeOf(result: BookingResult): Outcome {
  const bookings = byDeparture(isGroup(result) ? result.bookings : [result]);
  return { status: result.status, id: bookings[0]!.id, bookings };
}

export interface Trip {
  key: string;
  /** The first leg's booking id: the reference shown to the traveller. */
  referenceId: string;
  bookings: Booking[]; // legs in travel order
  status: BookingStatus;
  createdAt: string;
}

/**
 * Bookings of one connecting itinerary become one trip; the list stays newest first. A listed
 * booking does not carry its itinerary's group_id (BookingOut), so legs are recognised by what one
 * booking request gives all of them and no two requests share: the same creation instant and seat count.
 */
export function groupTrips(bookings: Booking[]): Trip[] {
  const trips: Trip[] = [];
  const byGroup = new Map<string, Trip>();
  for (const booking of bookings) {
    const groupKey = `${booking.created_at}|${booking.seats}`;
    const existing = byGroup.get(groupKey);
    if (existing) {
      existing.bookings.push(booking);
      continue;
    }
    const trip: Trip = {
      key: groupKey,
      referenceId: booking.id,
      bookings: [booking],
      status: booking.status,
      createdAt: booking.created_at,
    };
    trips.push(trip);
    byGroup.set(groupKey, trip);
  }
  for (const trip of trips) {
    trip.bookings = byDeparture(trip.bookings);
    trip.referenceId = trip.bookings[0]!.id;
  }
  return trips;
}

export const STATUS_COLORS: Record<BookingStatus, string> = {
  CONFIRMED: "green",
  PENDING: "yellow",
  FAILED: "red",
  CANCELLED: "gray",
  // Statuses of held orders (migration 0007), which the regenerated client now names.
  HELD: "blue",
  EXPIRED: "gray",
};
