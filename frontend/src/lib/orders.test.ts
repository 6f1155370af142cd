import { describe, expect, it } from "vitest";

import type { Flight, Order } from "../types";
import {
  afterChoosing,
  ageOn,
  canCancel,
  canPay,
  infantFare,
  passengerTypeFor,
  passengersForRequest,
  priceBreakdown,
  selectionFromUrl,
  selectionToUrl,
  sliceSearch,
  splitTrips,
  validateBirthDate,
  validateEmail,
  validateName,
  validateParty,
} from "./orders";

function flight(id: string, price: number, departure = "2027-01-10T06:00:00Z"): Flight {
  return {
    id,
    flight_number: `FD${id}`,
    source: "Delhi",
    destination: "Goa",
    departure_ts: departure,
    arrival_ts: new Date(Date.parse(departure) + 2 * 3_600_000).toISOString(),
    total_seats: 50,
    available_seats: 50,
    price,
  } as Flight;
}

function order(status: Order["status"], departure: string, deadline: string | null = null): Order {
  return {
    id: `o-${departure}`,
    reference: "ABC234",
    status,
    total_price: 100,
    slices: [{ flights: [flight("1", 100, departure)] }],
    passengers: [],
    contact: { email: "a@b.co" },
    payment_required_by: deadline,
    refund_amount: null,
    needs_attention: false,
    created_at: "2027-01-01T00:00:00Z",
  } as unknown as Order;
}

describe("passenger ages", () => {
  it("counts full years up to the day before the birthday", () => {
    expect(ageOn("2015-06-10", "2027-06-09")).toBe(11);
    expect(ageOn("2015-06-10", "2027-06-10")).toBe(12);
  });

  it("types a passenger by the age on the first departure: adult 12+, child 2–11, infant under 2", () => {
    expect(passengerTypeFor("1990-01-01", "2027-01-10")).toBe("adult");
    expect(passengerTypeFor("2015-01-10", "2027-01-10")).toBe("adult");
    expect(passengerTypeFor("2015-01-11", "2027-01-10")).toBe("child");
    expect(passengerTypeFor("2025-01-10", "2027-01-10")).toBe("child");
    expect(passengerTypeFor("2025-01-11", "2027-01-10")).toBe("infant");
    expect(passengerTypeFor("2027-01-10", "2027-01-10")).toBe("infant");
  });

  it("a leap-day birthday is reached on 1 March in other years", () => {
    expect(ageOn("2012-02-29", "2024-02-28")).toBe(11);
    expect(ageOn("2012-02-29", "2024-03-01")).toBe(12);
  });

  it("refuses impossible or future birth dates", () => {
    expect(validateBirthDate("2020-02-30", "2027-01-10")).not.toBeNull();
    expect(validateBirthDate("", "2027-01-10")).not.toBeNull();
    expect(validateBirthDate("2027-01-11", "2027-01-10")).not.toBeNull();
    expect(validateBirthDate("2027-01-10", "2027-01-10")).toBeNull();
  });
});

describe("passenger names and the party", () => {
  it("takes 1–64 letters, spaces, apostrophes and hyphens", () => {
    expect(validateName("Anne-Marie", "given name")).toBeNull();
    expect(validateName("O'Brien", "family name")).toBeNull();
    expect(validateName("Zoë Ångström", "family name")).toBeNull();
    expect(validateName("", "given name")).toBe("Enter the given name");
    expect(validateName("R2D2", "given name")).not.toBeNull();
    expect(validateName("--", "given name")).not.toBeNull();
    expect(validateName("a".repeat(65), "given name")).not.toBeNull();
    expect(validateName("a".repeat(64), "given name")).toBeNull();
  });

  it("allows at most one infant per adult and needs a seated passenger", () => {
    expect(validateParty(["adult", "adult", "infant"])).toBeNull();
    expect(validateParty(["adult", "infant", "infant"])).toMatch(/one infant per adult/);
    expect(validateParty(["child", "infant"])).toMatch(/one infant per adult/);
    expect(validateParty(["child"])).toBeNull();
    expect(validateParty([])).not.toBeNull();
  });

  it("checks the contact e-mail", () => {
    expect(validateEmail("traveller@example.com")).toBeNull();
    expect(validateEmail("traveller@")).not.toBeNull();
    expect(validateEmail("")).not.toBeNull();
  });

  it("sends trimmed names and the type derived from the birth date", () => {
    expect(passengersForRequest([{ given_name: "  Asha  ", family_name: "Rao  Kumar", born_on: "2026-03-01" }], "2027-01-10")).toEqual([
      { given_name: "Asha", family_name: "Rao Kumar", born_on: "2026-03-01", type: "infant" },
    ]);
  });
});

describe("price breakdown", () => {
  it("charges each flight's price per seated passenger plus 10% per infant", () => {
    const breakdown = priceBreakdown([flight("1", 4000), flight("2", 2500.5)], { adult: 2, child: 0, infant: 1 });
    expect(breakdown.lines.map((l) => [l.seated, l.seatedAmount, l.infantFare, l.infantAmount, l.amount])).toEqual([
      [2, 8000, 400, 400, 8400],
      [2, 5001, 250.05, 250.05, 5251.05],
    ]);
    expect(breakdown.total).toBe(13651.05);
  });

  it("rounds an infant's fare to the paisa, half up", () => {
    expect(infantFare(3200.5)).toBe(320.05);
    expect(infantFare(0.15)).toBe(0.02);
    expect(infantFare(0.1)).toBe(0.01);
  });

  it("adds prices in paise, without float drift", () => {
    expect(priceBreakdown([flight("1", 0.1)], { adult: 3, child: 0, infant: 0 }).total).toBe(0.3);
  });
});

describe("the trip in the URL", () => {
  it("round-trips a return selection with the search's filters", () => {
    const url = new URLSearchParams("from=Delhi&to=Goa&date=2027-01-10&seats=3&return=2027-01-17&sort=duration&max_stops=1");
    const chosenOut = afterChoosing(url, ["a1", "a2"]);
    expect("home" in chosenOut).toBe(true);
    const home = (chosenOut as { home: URLSearchParams }).home;
    expect(home.get("out")).toBe("a1,a2");
    const chosenRet = afterChoosing(home, ["b1"]);
    expect("passengers" in chosenRet).toBe(true);
    const path = (chosenRet as { passengers: string }).passengers;
    expect(path.startsWith("/trip/passengers?")).toBe(true);
    const selection = selectionFromUrl(new URLSearchParams(path.split("?")[1]))!;
    expect(selection).toEqual({
      source: "Delhi",
      destination: "Goa",
      date: "2027-01-10",
      seats: 3,
      returnDate: "2027-01-17",
      outbound: ["a1", "a2"],
      inbound: ["b1"],
      extra: [
        ["sort", "duration"],
        ["max_stops", "1"],
      ],
    });
    expect(selectionFromUrl(selectionToUrl(selection))).toEqual(selection);
    expect(sliceSearch(selection, "ret")).toEqual({ source: "Goa", destination: "Delhi", date: "2027-01-17", seats: 3 });
  });

  it("a one-way choice goes straight to passengers", () => {
    const chosen = afterChoosing(new URLSearchParams("from=Delhi&to=Goa&date=2027-01-10&seats=1"), ["a1"]);
    expect(chosen).toEqual({ passengers: "/trip/passengers?from=Delhi&to=Goa&date=2027-01-10&seats=1&out=a1" });
  });

  it("refuses a selection that is incomplete or malformed", () => {
    expect(selectionFromUrl(new URLSearchParams("from=Delhi&to=Goa&date=2027-01-10&seats=1"))).toBeNull();
    expect(selectionFromUrl(new URLSearchParams("from=Delhi&to=Goa&date=2027-01-10&seats=1&return=2027-01-12&out=a1"))).toBeNull();
    expect(selectionFromUrl(new URLSearchParams("from=Delhi&to=Goa&date=2027-01-10&seats=12&out=a1"))).toBeNull();
    expect(selectionFromUrl(new URLSearchParams("from=Delhi&to=Goa&date=2027-01-10&seats=1&out=a,b,c,d"))).toBeNull();
    expect(selectionFromUrl(new URLSearchParams("from=Delhi&to=Goa&date=2027-01-10&seats=1&out=<x>"))).toBeNull();
  });
});

describe("my trips", () => {
  const now = Date.parse("2027-01-10T00:00:00Z");

  it("splits upcoming from past by the first departure, soonest and latest first", () => {
    const later = order("CONFIRMED", "2027-02-01T06:00:00Z");
    const sooner = order("HELD", "2027-01-11T06:00:00Z");
    const gone = order("CONFIRMED", "2027-01-09T06:00:00Z");
    const older = order("CANCELLED", "2026-12-01T06:00:00Z");
    expect(splitTrips([later, gone, older, sooner], now)).toEqual({ upcoming: [sooner, later], past: [gone, older] });
  });

  it("offers no cancel once the first flight has left, and pay only on a live hold", () => {
    expect(canCancel(order("CONFIRMED", "2027-01-09T23:59:00Z"), now)).toBe(false);
    expect(canCancel(order("CONFIRMED", "2027-01-10T00:01:00Z"), now)).toBe(true);
    expect(canCancel(order("CANCELLED", "2027-01-11T00:00:00Z"), now)).toBe(false);
    expect(canPay(order("HELD", "2027-01-11T00:00:00Z", "2027-01-10T00:30:00Z"), now)).toBe(true);
    expect(canPay(order("HELD", "2027-01-11T00:00:00Z", "2027-01-09T23:30:00Z"), now)).toBe(false);
    expect(canPay(order("CONFIRMED", "2027-01-11T00:00:00Z"), now)).toBe(false);
  });
});
