import type { Booking, BookingGroup, BookingResult, BookingStatus } from "../types";

export function isGroup(result: BookingResult): result is BookingGroup {
  return "bookings" in result && Array.isArray(result.bookings);
}

export interface Outcome {
  status: BookingStatus;
  /** The id the reference is made from: the group's for a connecting trip, else the booking's. */
  id: string;
  bookings: Booking[];
}

export function outcomeOf(result: BookingResult): Outcome {
  if (isGroup(result)) return { status: result.status, id: result.group_id, bookings: result.bookings };
  return { status: result.status, id: result.id, bookings: [result] };
}

export interface Trip {
  key: string;
  groupId: string | null;
  bookings: Booking[]; // legs in travel order
  status: BookingStatus;
  createdAt: string;
}

/** Bookings of one connecting itinerary (shared group_id) become one trip; the list stays newest first. */
export function groupTrips(bookings: Booking[]): Trip[] {
  const trips: Trip[] = [];
  const byGroup = new Map<string, Trip>();
  for (const booking of bookings) {
    const groupId = booking.group_id ?? null;
    const existing = groupId ? byGroup.get(groupId) : undefined;
    if (existing) {
      existing.bookings.push(booking);
      continue;
    }
    const trip: Trip = {
      key: groupId ?? booking.id,
      groupId,
      bookings: [booking],
      status: booking.status,
      createdAt: booking.created_at,
    };
    trips.push(trip);
    if (groupId) byGroup.set(groupId, trip);
  }
  for (const trip of trips) trip.bookings.sort((a, b) => Date.parse(a.flight.departure_ts) - Date.parse(b.flight.departure_ts));
  return trips;
}

export const STATUS_COLORS: Record<BookingStatus, string> = {
  CONFIRMED: "green",
  PENDING: "yellow",
  FAILED: "red",
  CANCELLED: "gray",
};
