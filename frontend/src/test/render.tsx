import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";

import { theme } from "../Providers";
import type { Flight, Itinerary } from "../types";

export function renderUi(ui: ReactElement) {
  // env="test" turns off transitions and portals, so what opens is at once in the document.
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={queries}>
      <MantineProvider theme={theme} env="test">
        {ui}
      </MantineProvider>
    </QueryClientProvider>,
  );
}

let counter = 0;
export function flight(overrides: Partial<Flight> = {}): Flight {
  counter += 1;
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`,
    flight_number: `AI-${100 + counter}`,
    source: "Delhi",
    destination: "Mumbai",
    departure_ts: "2027-01-05T00:30:00Z", // 06:00 IST
    arrival_ts: "2027-01-05T02:40:00Z", // 08:10 IST
    total_seats: 100,
    available_seats: 50,
    price: 4000,
    status: "SCHEDULED",
    ...overrides,
  };
}

export function itinerary(flights: Flight[]): Itinerary {
  const first = flights[0]!;
  const last = flights[flights.length - 1]!;
  return {
    flights,
    total_price: flights.reduce((sum, f) => sum + f.price, 0),
    stops: flights.length - 1,
    departure_ts: first.departure_ts,
    arrival_ts: last.arrival_ts,
    duration_minutes: (Date.parse(last.arrival_ts) - Date.parse(first.departure_ts)) / 60_000,
  };
}
