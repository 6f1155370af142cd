// The traveller's order flow without the UI: passenger types by age, the checks the API makes on
// passengers, the price breakdown it charges, and the trip selection kept in the URL (so every
// step of the flow survives a reload and a shared link shows the same trip).
import type { Flight, Order, OrderPassengerIn, PassengerType } from "../types";
import { sumPrices } from "./money";

// --- passengers ---

export const PASSENGER_LABELS: Record<PassengerType, string> = { adult: "Adult", child: "Child", infant: "Infant" };

/** Full years from a birth date to a day (both YYYY-MM-DD); a 29 February birthday counts on 1 March. */
export function ageOn(bornOn: string, day: string): number {
  const [by, bm, bd] = bornOn.split("-").map(Number) as [number, number, number];
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  let age = y - by;
  if (m < bm || (m === bm && d < bd)) age -= 1;
  return age;
}

/** The contract's types: adult 12+ on the first departure, child 2–11, infant under 2. */
export function passengerTypeFor(bornOn: string, firstDepartureDay: string): PassengerType {
  const age = ageOn(bornOn, firstDepartureDay);
  if (age >= 12) return "adult";
  if (age >= 2) return "child";
  return "infant";
}

// Letters of any script, spaces, apostrophes and hyphens; at least one letter.
const NAME = /^[\p{L}\p{M}' -]{1,64}$/u;

export function validateName(value: string, label: string): string | null {
  const v = value.trim();
  if (!v) return `Enter the ${label}`;
  if ([...v].length > 64) return `The ${label} is at most 64 characters`;
  if (!NAME.test(v) || !/\p{L}/u.test(v)) return "Use letters, spaces, ' or - only";
  return null;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isRealDay(value: string): boolean {
  if (!DAY.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

export function validateBirthDate(value: string, firstDepartureDay: string): string | null {
  if (!isRealDay(value)) return "Enter the date of birth";
  if (value < "1900-01-01") return "Check the year of birth";
  if (value > firstDepartureDay) return "Born after the flight? Check the date";
  return null;
}

export function validateEmail(value: string): string | null {
  const v = value.trim();
  if (!v) return "Enter an e-mail address for the confirmation";
  if (v.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) return "Enter a valid e-mail address";
  return null;
}

export interface PassengerDraft {
  given_name: string;
  family_name: string;
  born_on: string;
}

export interface PassengerCounts {
  adult: number;
  child: number;
  infant: number;
}

export function countTypes(types: PassengerType[]): PassengerCounts {
  const counts: PassengerCounts = { adult: 0, child: 0, infant: 0 };
  for (const type of types) counts[type] += 1;
  return counts;
}

/** The passengers who take a seat: an infant travels on an adult's lap. */
export function seatedCount(counts: PassengerCounts): number {
  return counts.adult + counts.child;
}

/** What the whole party breaks (null when fine): the API's 422 rules for the passenger list. */
export function validateParty(types: PassengerType[]): string | null {
  const counts = countTypes(types);
  if (types.length < 1 || types.length > 9) return "1 to 9 passengers";
  if (counts.infant > counts.adult) return "Each infant travels on an adult's lap: at most one infant per adult";
  if (seatedCount(counts) === 0) return "At least one passenger needs a seat";
  return null;
}

/** The request's passengers: names trimmed, the type from the age on the first departure. */
export function passengersForRequest(drafts: PassengerDraft[], firstDepartureDay: string): OrderPassengerIn[] {
  return drafts.map((d) => ({
    given_name: d.given_name.trim().replace(/\s+/g, " "),
    family_name: d.family_name.trim().replace(/\s+/g, " "),
    born_on: d.born_on,
    type: passengerTypeFor(d.born_on, firstDepartureDay),
  }));
}

// --- price ---

export interface PriceLine {
  flight: Flight;
  seated: number;
  seatedAmount: number;
  infants: number;
  infantFare: number;
  infantAmount: number;
  amount: number;
}

export interface PriceBreakdown {
  lines: PriceLine[];
  total: number;
}

/** An infant's fare on a flight: 10% of the seat price, to the paisa (half up). */
export function infantFare(price: number): number {
  return Math.round(Math.round(price * 100) / 10) / 100;
}

/** What the API charges: each flight's price per seated passenger, plus 10% of it per infant. */
export function priceBreakdown(flights: Flight[], counts: PassengerCounts): PriceBreakdown {
  const seated = seatedCount(counts);
  const lines = flights.map((flight) => {
    const seatedAmount = (Math.round(flight.price * 100) * seated) / 100;
    const fare = infantFare(flight.price);
    const infantAmount = (Math.round(fare * 100) * counts.infant) / 100;
    return {
      flight,
      seated,
      seatedAmount,
      infants: counts.infant,
      infantFare: fare,
      infantAmount,
      amount: sumPrices([seatedAmount, infantAmount]),
    };
  });
  return { lines, total: sumPrices(lines.map((l) => l.amount)) };
}

// --- the trip selection in the URL ---

/**
 * Everything the flow needs to rebuild itself after a reload: the search (as the home page's URL
 * has it, with any filters the results were shown under) and the chosen flights per slice.
 */
export interface TripSelection {
  source: string;
  destination: string;
  date: string;
  seats: number;
  returnDate: string | null;
  outbound: string[];
  inbound: string[] | null;
  /** Other search parameters (filters, sort) kept as they were, so the search finds the same itineraries. */
  extra: [string, string][];
}

const OWN_KEYS = new Set(["from", "to", "date", "seats", "return", "out", "ret"]);
const IDS = /^[0-9a-fA-F-]{1,64}$/;

function idsFrom(value: string | null): string[] | null {
  if (!value) return null;
  const ids = value.split(",");
  return ids.length >= 1 && ids.length <= 3 && ids.every((id) => IDS.test(id)) ? ids : null;
}

export function selectionFromUrl(url: URLSearchParams): TripSelection | null {
  const source = url.get("from");
  const destination = url.get("to");
  const date = url.get("date");
  const seats = Number(url.get("seats") ?? "1");
  const returnDate = url.get("return");
  const outbound = idsFrom(url.get("out"));
  const inbound = idsFrom(url.get("ret"));
  if (!source || !destination || !date || !DAY.test(date) || !outbound) return null;
  if (!Number.isInteger(seats) || seats < 1 || seats > 9) return null;
  if (returnDate !== null && (!DAY.test(returnDate) || !inbound)) return null;
  return {
    source,
    destination,
    date,
    seats,
    returnDate,
    outbound,
    inbound: returnDate ? inbound : null,
    extra: [...url.entries()].filter(([key]) => !OWN_KEYS.has(key)),
  };
}

export function selectionToUrl(selection: TripSelection): URLSearchParams {
  const url = new URLSearchParams({
    from: selection.source,
    to: selection.destination,
    date: selection.date,
    seats: String(selection.seats),
  });
  if (selection.returnDate) url.set("return", selection.returnDate);
  url.set("out", selection.outbound.join(","));
  if (selection.returnDate && selection.inbound) url.set("ret", selection.inbound.join(","));
  for (const [key, value] of selection.extra) url.append(key, value);
  return url;
}

/** A stable key for one selection (the passengers' draft is kept under it). */
export function selectionKey(selection: TripSelection): string {
  return [selection.outbound.join(","), selection.inbound?.join(",") ?? "", selection.seats].join("|");
}

/**
 * What choosing an itinerary on the results page does: with a return date and no outbound chosen
 * yet, it becomes the outbound and the return results show; otherwise the passengers step follows.
 */
export function afterChoosing(url: URLSearchParams, flightIds: string[]): { home: URLSearchParams } | { passengers: string } {
  const next = new URLSearchParams(url);
  if (url.get("return") && !url.get("out")) {
    next.set("out", flightIds.join(","));
    return { home: next };
  }
  if (url.get("return")) next.set("ret", flightIds.join(","));
  else next.set("out", flightIds.join(","));
  return { passengers: `/trip/passengers?${next.toString()}` };
}

/** The search that shows a slice's itineraries: the outbound as searched, the return reversed on its date. */
export function sliceSearch(selection: Pick<TripSelection, "source" | "destination" | "date" | "seats" | "returnDate">, slice: "out" | "ret") {
  return slice === "out"
    ? { source: selection.source, destination: selection.destination, date: selection.date, seats: selection.seats }
    : { source: selection.destination, destination: selection.source, date: selection.returnDate ?? selection.date, seats: selection.seats };
}

// --- orders ---

/** The first departure of an order: "upcoming" until it, "past" after; no cancel once it left. */
export function firstDeparture(order: Pick<Order, "slices">): string | null {
  let first: string | null = null;
  for (const slice of order.slices) {
    for (const flight of slice.flights) {
      if (first === null || Date.parse(flight.departure_ts) < Date.parse(first)) first = flight.departure_ts;
    }
  }
  return first;
}

export function hasDeparted(order: Pick<Order, "slices">, now: number = Date.now()): boolean {
  const first = firstDeparture(order);
  return first !== null && Date.parse(first) <= now;
}

export function splitTrips<T extends Pick<Order, "slices">>(orders: T[], now: number = Date.now()): { upcoming: T[]; past: T[] } {
  const upcoming: T[] = [];
  const past: T[] = [];
  for (const order of orders) (hasDeparted(order, now) ? past : upcoming).push(order);
  // Upcoming: soonest first; past: most recent first.
  const at = (o: T) => Date.parse(firstDeparture(o) ?? "1970-01-01T00:00:00Z");
  upcoming.sort((a, b) => at(a) - at(b));
  past.sort((a, b) => at(b) - at(a));
  return { upcoming, past };
}

export function canCancel(order: Pick<Order, "slices" | "status">, now: number = Date.now()): boolean {
  return (order.status === "CONFIRMED" || order.status === "HELD") && !hasDeparted(order, now);
}

export function canPay(order: Pick<Order, "status" | "payment_required_by">, now: number = Date.now()): boolean {
  return order.status === "HELD" && (order.payment_required_by === null || Date.parse(order.payment_required_by) > now);
}

export const ORDER_STATUS_COLORS: Record<Order["status"], string> = {
  HELD: "yellow",
  PENDING: "blue",
  CONFIRMED: "green",
  FAILED: "red",
  CANCELLED: "gray",
  EXPIRED: "gray",
};
