// PROVISIONAL: the operations API's shapes as the brief describes them, until branch ops-api's
// routers land and `npm run gen:api` generates them; then every type here becomes an alias of the
// generated schema like those in ./index.ts.
import type { Flight } from "./index";

export type FlightStatus = "SCHEDULED" | "CANCELLED";
export type OpsFlight = Flight & { status?: FlightStatus };

export interface ManifestPassenger {
  given_name: string;
  family_name: string;
  born_on: string;
  type: "adult" | "child" | "infant";
}
export interface ManifestEntry {
  booking_id: string;
  order_id: string | null;
  reference: string | null;
  status: string;
  seats: number;
  passengers: ManifestPassenger[];
  contact_email: string | null;
  username: string;
  created_at: string;
}
export interface Manifest {
  flight: OpsFlight;
  entries: ManifestEntry[];
  totals: { bookings: number; seats: number; passengers: number };
}

export interface CancellationImpact {
  orders: number;
  bookings: number;
  passengers: number;
  refund_total: number;
}
export interface FlightCancellation extends CancellationImpact {
  flight: OpsFlight;
  orders_cancelled: number;
  bookings_cancelled: number;
}

export interface RouteDay {
  date: string;
  source: string;
  destination: string;
  flights: number;
  seats: number;
  sold: number;
  load_factor: number;
  revenue: number;
}
export interface Departure {
  flight: OpsFlight;
  sold: number;
  load_factor: number;
  status: FlightStatus;
}
export interface ImportJob {
  job_id: string;
  status: "PENDING" | "IN_PROGRESS" | "COMPLETED" | "FAILED";
  created_at: string;
  filename?: string | null;
  summary: { total_rows: number; processed_rows: number; inserted: number; updated: number; failed: number } | null;
}

export type NotificationKind =
  | "order_confirmed"
  | "hold_expiring"
  | "hold_expired"
  | "order_cancelled"
  | "flight_cancelled"
  | "schedule_changed";
export interface UserNotification {
  id: string;
  kind: NotificationKind;
  order_id: string | null;
  subject: string;
  body: string;
  created_at: string;
  read: boolean;
}
export interface UnreadCount {
  unread: number;
}

export interface OrderForBanner {
  id: string;
  reference: string;
  status: string;
  needs_attention: boolean;
  total_price: number;
  refund_amount?: number | null;
}
export interface CancellationQuote {
  refund_amount: number;
  expires_at: string | null;
}
