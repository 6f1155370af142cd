// The operations API (manifests, airline cancellations, dashboards, notifications) and the order
// calls the needs-attention banner makes (untyped until orders-api's schema is generated). Each function returns the response body or throws ApiError.
import { errorsCsvFilename, errorsCsvPath } from "../lib/operations";
import type {
  CancellationImpact,
  CancellationQuote,
  DeparturesReport,
  FlightCancellation,
  ImportJob,
  Manifest,
  OrderForBanner,
  RoutesReport,
  UnreadCount,
  UserNotification,
} from "../types/operations";
import { client, unwrap } from "./api";
import { ApiError } from "./errors";
import { clearToken, getToken } from "./token";

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const token = getToken();
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, null);
  }
  if (response.status === 401 && token) clearToken("expired");
  const data: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && typeof data === "object" && "detail" in data ? data.detail : null;
    throw new ApiError(response.status, detail);
  }
  return data as T;
}

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

export function cancellationQuote(orderId: string): Promise<CancellationQuote> {
  return call("GET", `/api/v1/orders/${encodeURIComponent(orderId)}/cancellation-quote`);
}

export function cancelOrder(orderId: string): Promise<OrderForBanner> {
  return call("POST", `/api/v1/orders/${encodeURIComponent(orderId)}/cancel`);
}

export function order(orderId: string): Promise<OrderForBanner> {
  return call("GET", `/api/v1/orders/${encodeURIComponent(orderId)}`);
}
