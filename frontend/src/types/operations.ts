// The operations API's types, aliases of the generated schema (src/services/schema.d.ts) like those
// in ./index.ts.
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

// The order fields the needs-attention banner reads (any OrderOut has them).
export type Order = Schemas["Order"];
export type OrderForBanner = Pick<Order, "id" | "reference" | "status" | "needs_attention" | "total_price" | "refund_amount">;
export type CancellationQuote = Schemas["CancellationQuote"];
