// The operations API (manifests, airline cancellations, dashboards, notifications) and the order
// calls the needs-attention banner makes. Each function returns the response body or throws ApiError.
import { errorsCsvFilename, errorsCsvPath } from "../lib/operations";
import type {
  CancellationImpact,
  CancellationQuote,
  DeparturesReport,
  FlightCancellation,
  ImportJob,
  Manifest,
  Order,
  RoutesReport,
  UnreadCount,
  UserNotification,
} from "../types/operations";
import { client, unwrap } from "./api";
import { ApiError } from "./errors";
import { getToken } from "./token";

const flight = (id: string) => ({ params: { path: { flight_id: id } } });

export function manifest(flightId: string): Promise<Manifest> {
  return unwrap(client.GET("/admin/flights/{flight_id}/manifest", flight(flightId)));
}

export function cancellationImpact(flightId: string): Promise<CancellationImpact> {
  return unwrap(client.GET("/admin/flights/{flight_id}/cancellation-impact", flight(flightId)));
}

export function cancelFlight(flightId: string): Promise<FlightCancellation> {
  return unwrap(client.POST("/admin/flights/{flight_id}/cancel", flight(flightId)));
}

export function routeStats(dateFrom: string, dateTo: string): Promise<RoutesReport> {
  return unwrap(client.GET("/admin/operations/routes", { params: { query: { date_from: dateFrom, date_to: dateTo } } }));
}

export function departures(hours: number): Promise<DeparturesReport> {
  return unwrap(client.GET("/admin/operations/departures", { params: { query: { hours } } }));
}

export function importJobs(limit: number): Promise<ImportJob[]> {
  return unwrap(client.GET("/admin/flights/bulk-upload/jobs", { params: { query: { limit } } }));
}

/**
 * Saves an import job's errors as a CSV file. The endpoint needs the admin's bearer token, which a
 * plain link cannot send, so the file is fetched and handed to the browser as an object URL.
 */
export async function downloadErrorsCsv(jobId: string): Promise<void> {
  const token = getToken();
  let response: Response;
  try {
    response = await fetch(errorsCsvPath(jobId), { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) throw new ApiError(response.status, null);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = errorsCsvFilename(jobId);
  document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the blob to the download; revoking later keeps slow browsers safe.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function notificationsList(): Promise<UserNotification[]> {
  return unwrap(client.GET("/api/v1/notifications"));
}

export function unreadCount(): Promise<UnreadCount> {
  return unwrap(client.GET("/api/v1/notifications/unread-count"));
}

/** Marks every one of the user's notifications read (no ids: all of them). */
export async function markNotificationsRead(): Promise<void> {
  await unwrap(client.POST("/api/v1/notifications/read", { body: {} }));
}

const order_ = (id: string) => ({ params: { path: { order_id: id } } });

export function cancellationQuote(orderId: string): Promise<CancellationQuote> {
  return unwrap(client.GET("/api/v1/orders/{order_id}/cancellation-quote", order_(orderId)));
}

export function cancelOrder(orderId: string): Promise<Order> {
  return unwrap(client.POST("/api/v1/orders/{order_id}/cancel", order_(orderId)));
}

export function order(orderId: string): Promise<Order> {
  return unwrap(client.GET("/api/v1/orders/{order_id}", order_(orderId)));
}
