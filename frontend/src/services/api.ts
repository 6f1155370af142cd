// The typed API client: openapi-fetch over the paths generated from the backend's OpenAPI schema
// (`npm run gen:api`). Each function returns the response body or throws an ApiError.
import createClient, { type Middleware } from "openapi-fetch";

import type {
  AirportInfo,
  AirportPlace,
  AirportSuggestion,
  Booking,
  BookingRequest,
  BookingResult,
  BulkJob,
  BulkJobAccepted,
  CalendarDay,
  CalendarQuery,
  Flight,
  FlightFilters,
  FlightInput,
  FlightPage,
  CancellationQuote,
  Itinerary,
  Order,
  OrderRequest,
  SearchQuery,
  User,
} from "../types";
import { ApiError } from "./errors";
import type { paths } from "./schema";
import { clearToken, getToken } from "./token";

export const client = createClient<paths>({ baseUrl: globalThis.location?.origin ?? "" });

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    // A token the server no longer accepts (expired, user gone): log out and send the user to login.
    if (response.status === 401 && request.headers.has("Authorization")) clearToken("expired");
    return response;
  },
};
client.use(auth);

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch {
    throw new ApiError(0, null);
  }
  const { data, error, response } = outcome;
  if (!response.ok) {
    const detail = error && typeof error === "object" && "detail" in error ? error.detail : null;
    throw new ApiError(response.status, detail);
  }
  return data as T;
}

// --- auth ---

export async function login(username: string, password: string): Promise<string> {
  const body = await unwrap(
    client.POST("/api/v1/auth/token", {
      body: { username, password, grant_type: "password", scope: "" },
      bodySerializer: (values) =>
        new URLSearchParams(Object.entries(values).filter((entry): entry is [string, string] => entry[1] != null)),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }),
  );
  return body.access_token;
}

export function register(username: string, password: string): Promise<User> {
  return unwrap(client.POST("/api/v1/auth/register", { body: { username, password } }));
}

export function me(): Promise<User> {
  return unwrap(client.GET("/api/v1/auth/me"));
}

// --- public ---

export function airports(): Promise<string[]> {
  return unwrap(client.GET("/api/v1/airports"));
}

export function airportPlaces(): Promise<AirportPlace[]> {
  return unwrap(client.GET("/api/v1/airports/places"));
}

export function suggestAirports(q: string): Promise<AirportSuggestion[]> {
  return unwrap(client.GET("/api/v1/airports/suggest", { params: { query: { q } } }));
}

export function search(query: SearchQuery): Promise<Itinerary[]> {
  return unwrap(client.GET("/api/v1/search", { params: { query } }));
}

export function searchCalendar(query: CalendarQuery): Promise<CalendarDay[]> {
  return unwrap(client.GET("/api/v1/search/calendar", { params: { query } }));
}

// --- bookings ---

export async function book(request: BookingRequest, idempotencyKey: string): Promise<BookingResult> {
  const { data, error, response } = await client
    .POST("/api/v1/booking", { body: request, headers: { "Idempotency-Key": idempotencyKey } })
    .catch(() => {
      throw new ApiError(0, null);
    });
  // 402 carries the FAILED booking in the same shape as a success: the caller shows it and offers a retry.
  if (response.status === 402) return error as BookingResult;
  if (!response.ok) {
    const detail = error && typeof error === "object" && "detail" in error ? error.detail : null;
    throw new ApiError(response.status, detail);
  }
  return data as BookingResult;
}

export function myBookings(): Promise<Booking[]> {
  return unwrap(client.GET("/api/v1/bookings"));
}

export function cancelBooking(id: string): Promise<Booking> {
  return unwrap(client.DELETE("/api/v1/bookings/{booking_id}", { params: { path: { booking_id: id } } }));
}

// --- orders ---

/** 201 with the order (CONFIRMED or HELD), or 402 with the FAILED one: the caller shows it and offers a retry. */
export async function createOrder(request: OrderRequest, idempotencyKey: string): Promise<Order> {
  const { data, error, response } = await client
    .POST("/api/v1/orders", { body: request, headers: { "Idempotency-Key": idempotencyKey } })
    .catch(() => {
      throw new ApiError(0, null);
    });
  if (response.status === 402) return error as unknown as Order;
  if (!response.ok) {
    const detail = error && typeof error === "object" && "detail" in error ? error.detail : null;
    throw new ApiError(response.status, detail);
  }
  return data as Order;
}

export function myOrders(): Promise<Order[]> {
  return unwrap(client.GET("/api/v1/orders"));
}

export function getOrder(id: string): Promise<Order> {
  return unwrap(client.GET("/api/v1/orders/{order_id}", { params: { path: { order_id: id } } }));
}

/** 200 CONFIRMED, or 402 with the order still HELD (its deadline unchanged): shown, and payable again. */
export async function payOrder(id: string): Promise<Order> {
  const { data, error, response } = await client
    .POST("/api/v1/orders/{order_id}/pay", { params: { path: { order_id: id } } })
    .catch(() => {
      throw new ApiError(0, null);
    });
  if (!response.ok) {
    const detail = error && typeof error === "object" && "detail" in error ? error.detail : null;
    throw new ApiError(response.status, detail);
  }
  return data as Order;
}

export function cancellationQuote(id: string): Promise<CancellationQuote> {
  return unwrap(
    client.GET("/api/v1/orders/{order_id}/cancellation-quote", { params: { path: { order_id: id } } }),
  );
}

export function cancelOrder(id: string): Promise<Order> {
  return unwrap(client.POST("/api/v1/orders/{order_id}/cancel", { params: { path: { order_id: id } } }));
}

export function lookupOrder(reference: string, familyName: string): Promise<Order> {
  return unwrap(
    client.GET("/api/v1/orders/lookup", { params: { query: { reference, family_name: familyName } } }),
  );
}

// --- admin ---

export function adminFlights(filters: FlightFilters): Promise<FlightPage> {
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== "" && v !== undefined));
  return unwrap(client.GET("/admin/flights", { params: { query } }));
}

export function createFlight(body: FlightInput): Promise<Flight> {
  return unwrap(client.POST("/admin/flights", { body }));
}

export function updateFlight(id: string, body: FlightInput): Promise<Flight> {
  return unwrap(client.PUT("/admin/flights/{flight_id}", { params: { path: { flight_id: id } }, body }));
}

export async function deleteFlight(id: string): Promise<void> {
  await unwrap(client.DELETE("/admin/flights/{flight_id}", { params: { path: { flight_id: id } } }));
}

export function adminAirports(): Promise<AirportInfo[]> {
  return unwrap(client.GET("/admin/airports"));
}

export function setAirportTimezone(name: string, timezone: string): Promise<AirportInfo> {
  return unwrap(client.PUT("/admin/airports/{name}", { params: { path: { name } }, body: { timezone } }));
}

export function uploadFlightsCsv(file: File): Promise<BulkJobAccepted> {
  return unwrap(
    client.POST("/admin/flights/bulk-upload", {
      // The schema types a binary part as string; the browser sends the File itself.
      body: { file: file as unknown as string },
      bodySerializer: (values) => {
        const form = new FormData();
        form.append("file", values.file as unknown as File);
        return form;
      },
    }),
  );
}

export function uploadStatus(jobId: string): Promise<BulkJob> {
  return unwrap(
    client.GET("/admin/flights/bulk-upload/status/{job_id}", { params: { path: { job_id: jobId } } }),
  );
}
