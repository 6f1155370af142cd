// Turns FastAPI's error bodies into messages a person can act on.
import type { components } from "./schema";

export interface FieldError {
  field: string | null; // the body field the error is about, when the API names one
  message: string;
}

// Read defensively: a detail array is only assumed to hold FastAPI's items, not checked.
type ValidationItem = Partial<components["schemas"]["ValidationError"]>;

export class ApiError extends Error {
  readonly status: number;
  readonly detail: unknown;

  constructor(status: number, detail: unknown) {
    super(messageFor(status, detail));
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }

  /** One entry per problem: 422 detail arrays are split per field, anything else is one message. */
  get fieldErrors(): FieldError[] {
    return fieldErrorsOf(this.detail);
  }
}

export function fieldErrorsOf(detail: unknown): FieldError[] {
  if (!Array.isArray(detail)) return [];
  return detail.map((item: ValidationItem) => {
    const loc = (item.loc ?? []).filter((part) => part !== "body" && part !== "query" && part !== "path");
    const field = loc.length > 0 ? String(loc[0]) : null;
    return { field, message: cleanMessage(item.msg ?? "is invalid") };
  });
}

// Pydantic prefixes model-level errors with "Value error, "; people don't need that.
function cleanMessage(message: string): string {
  return message.replace(/^Value error, /, "");
}

function messageFor(status: number, detail: unknown): string {
  if (typeof detail === "string" && detail) return detail;
  const fields = fieldErrorsOf(detail);
  if (fields.length > 0) {
    return fields.map((e) => (e.field ? `${humanField(e.field)}: ${e.message}` : e.message)).join("; ");
  }
  if (status === 0) return "Cannot reach FlightDesk. Check your connection and try again.";
  if (status === 401) return "Please log in again.";
  if (status === 403) return "You don't have permission to do that.";
  if (status === 404) return "Not found.";
  if (status === 413) return "The file is too large.";
  if (status === 429) return "Too many attempts. Please wait a little and try again.";
  if (status === 503) return "FlightDesk is briefly unavailable. Please try again in a moment.";
  return `Something went wrong (HTTP ${status}). Please try again.`;
}

export function humanField(field: string): string {
  const names: Record<string, string> = {
    flight_number: "Flight number",
    departure_ts: "Departure",
    arrival_ts: "Arrival",
    total_seats: "Total seats",
    source: "From",
    destination: "To",
    price: "Price",
    seats: "Passengers",
    username: "Username",
    password: "Password",
    timezone: "Timezone",
    file: "File",
  };
  return names[field] ?? field.replace(/_/g, " ");
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return "Something went wrong. Please try again.";
}
