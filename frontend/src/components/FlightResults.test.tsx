import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { makeTimezoneLookup } from "../lib/time";
import { flight, itinerary, renderUi } from "../test/render";
import FlightResults from "./FlightResults";

const zoneOf = makeTimezoneLookup();

describe("FlightResults", () => {
  const connecting = itinerary([
    flight({ flight_number: "AI-1", destination: "Mumbai", price: 4000 }),
    flight({ flight_number: "6E-2", source: "Mumbai", destination: "Goa", departure_ts: "2027-01-05T04:30:00Z", arrival_ts: "2027-01-05T05:45:00Z", price: 2500 }),
  ]);
  const direct = itinerary([flight({ flight_number: "UK-9", destination: "Goa", price: 9500, arrival_ts: "2027-01-05T03:00:00Z" })]);

  it("shows each leg's flight number, local times, the layover, stops, duration and prices", () => {
    renderUi(<FlightResults itineraries={[connecting]} seats={2} timezoneOf={zoneOf} onSelect={() => {}} />);
    const card = screen.getByTestId("itinerary");
    expect(within(card).getAllByTestId("leg-flight-number").map((e) => e.textContent)).toEqual(["AI-1", "6E-2"]);
    expect(within(card).getAllByTestId("leg-times")[0]).toHaveTextContent("06:00 – 08:10");
    expect(within(card).getByTestId("layover")).toHaveTextContent("1h 50m layover in Mumbai");
    expect(within(card).getByTestId("itinerary-stops")).toHaveTextContent("1 stop");
    expect(within(card).getByTestId("itinerary-duration")).toHaveTextContent("5h 15m total");
    expect(within(card).getByTestId("itinerary-price")).toHaveTextContent("₹6,500");
    expect(within(card).getByTestId("itinerary-total")).toHaveTextContent("₹13,000 for 2");
  });

  it("keeps the order the server sorted them in (no re-sorting of the 20 it sent)", () => {
    const { unmount } = renderUi(
      <FlightResults itineraries={[direct, connecting]} seats={1} timezoneOf={zoneOf} onSelect={() => {}} />,
    );
    expect(screen.getAllByTestId("itinerary-stops")[0]).toHaveTextContent("Non-stop");
    unmount();
    renderUi(<FlightResults itineraries={[connecting, direct]} seats={1} timezoneOf={zoneOf} onSelect={() => {}} />);
    expect(screen.getAllByTestId("itinerary-price")[0]).toHaveTextContent("₹6,500");
  });

  it("marks an itinerary without enough seats as sold out and refuses to select it", async () => {
    const onSelect = vi.fn();
    const full = itinerary([flight({ available_seats: 1 })]);
    renderUi(<FlightResults itineraries={[full]} seats={2} timezoneOf={zoneOf} onSelect={onSelect} />);
    expect(screen.getByTestId("sold-out")).toBeInTheDocument();
    const button = screen.getByTestId("select-itinerary");
    expect(button).toBeDisabled();
    await userEvent.click(button).catch(() => {});
    expect(onSelect).not.toHaveBeenCalled();
  });

  it("hands the chosen itinerary to onSelect", async () => {
    const onSelect = vi.fn();
    renderUi(<FlightResults itineraries={[connecting]} seats={1} timezoneOf={zoneOf} onSelect={onSelect} />);
    await userEvent.click(screen.getByTestId("select-itinerary"));
    expect(onSelect).toHaveBeenCalledWith(connecting);
  });
});
