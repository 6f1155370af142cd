// The operations API's types, aliases of the generated schema (src/services/schema.d.ts) like those
// in ./index.ts. Only the order shapes the needs-attention banner reads are still written out here,
// until branch orders-api's routers are merged and generated too.
import type { components } from "../services/schema";

type Schemas = components["schemas"];

export type FlightStatus = Schemas["FlightStatus"];
export type Manifest = Schemas["ManifestOut"];
export type ManifestEntry = Schemas["ManifestEntry"];
export type ManifestPassenger = Schemas["ManifestPassenger"];
export type CancellationImpact = Schemas["CancellationImpact"];
export type FlightCancellation = Schemas["CancelOut"];
export type RoutesReport = Schemas["RoutesReport"];
export type RouteDay = Schemas["RouteDay"];
export type DeparturesReport = Schemas["DeparturesOut"];
export type Departure = Schemas["Departure"];
export type ImportJob = Schemas["BulkJobListed"];
export type NotificationKind = Schemas["NotificationKind"];
export type UserNotification = Schemas["NotificationOut"];
export type UnreadCount = Schemas["UnreadCount"];

// PROVISIONAL (orders-api): GET /api/v1/orders/{id}, its cancellation quote and cancel.
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
