// The API's types, every one an alias of the generated schema (src/services/schema.d.ts, made from
// the backend's OpenAPI document by `npm run gen:api`): a backend change breaks `tsc` here instead
// of at run time. Nothing in this file restates the contract by hand.
import type { components, paths } from "../services/schema";

type Schemas = components["schemas"];

export type User = Schemas["UserOut"];
export type Token = Schemas["Token"];

export type Flight = Schemas["FlightOut"];
export type FlightInput = Schemas["FlightIn"];
export type FlightPage = Schemas["FlightPage"];
export type FlightFilters = NonNullable<paths["/admin/flights"]["get"]["parameters"]["query"]>;
export type AirportInfo = Schemas["AirportOut"];
export type AirportPlace = Schemas["PlaceOut"];
export type AirportSuggestion = Schemas["SuggestionOut"];

export type Itinerary = Schemas["Itinerary"];
export type SearchQuery = paths["/api/v1/search"]["get"]["parameters"]["query"];
// The form's fields; the app always sends seats (the API would default it to 1).
export type SearchParams = Pick<Required<SearchQuery>, "source" | "destination" | "date" | "seats">;
export type CalendarQuery = paths["/api/v1/search/calendar"]["get"]["parameters"]["query"];
// One day of the price calendar: the cheapest itinerary's price and stops, nulls where nothing flies.
export type CalendarDay =
  paths["/api/v1/search/calendar"]["get"]["responses"][200]["content"]["application/json"][number];

export type BookingStatus = Schemas["BookingStatus"];
export type BookingRequest = Schemas["BookingIn"];
export type Booking = Schemas["BookingOut"];
export type BookingGroup = Schemas["BookingGroupOut"];
// POST /booking answers with one booking, or with the group of a connecting itinerary's legs.
export type BookingResult = Booking | BookingGroup;

export type JobStatus = Schemas["JobStatus"];
export type BulkJobAccepted = Schemas["BulkJobAccepted"];
export type BulkJob = Schemas["BulkJobStatus"];

export type PassengerType = Schemas["PassengerType"];
export type OrderStatus = Schemas["OrderStatus"];
export type OrderPassengerIn = Schemas["PassengerIn"];
export type OrderPassenger = Schemas["PassengerOut"];
export type OrderRequest = Schemas["OrderIn"];
export type Order = Schemas["Order"];
export type CancellationQuote = Schemas["CancellationQuote"];
