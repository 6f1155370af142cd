// Domain types. Where the backend's OpenAPI schema names a model, the type comes from the generated
// schema (src/services/schema.d.ts), so a backend change breaks `tsc` here instead of at run time.
import type { components } from "../services/schema";

type Schemas = components["schemas"];

export type User = Schemas["UserOut"];
export type Flight = Schemas["FlightOut"];
export type FlightInput = Schemas["FlightIn"];
export type FlightPage = Schemas["FlightPage"];
export type AirportInfo = Schemas["AirportOut"];

export interface Itinerary {
  flights: Flight[];
  total_price: number;
  stops: number;
  departure_ts: string;
  arrival_ts: string;
  duration_minutes: number;
}

export type BookingStatus = "PENDING" | "CONFIRMED" | "FAILED" | "CANCELLED";

// The schema types `status` as a plain string; the contract names its four values.
export type Booking = Omit<Schemas["BookingOut"], "status"> & {
  status: BookingStatus;
  group_id?: string | null; // legs of one connecting itinerary share it (when the API includes it)
  unit_price?: number | null;
};

export type BookingGroup = Omit<Schemas["BookingGroupOut"], "status" | "bookings"> & {
  status: BookingStatus;
  bookings: Booking[];
};

export type BookingResult = Booking | BookingGroup;

export type JobStatus = Schemas["BulkJobStatus"]["status"];
export type RowError = Schemas["BulkRowError"];
export type JobSummary = Schemas["BulkSummary"];
export type BulkJob = Omit<Schemas["BulkJobStatus"], "summary"> & { summary?: JobSummary | null };

export interface SearchParams {
  source: string;
  destination: string;
  date: string; // YYYY-MM-DD, the departure's local date at the source airport
  seats: number;
}

export type SortKey = "price" | "duration";
