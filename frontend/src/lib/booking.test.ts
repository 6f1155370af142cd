import { describe, expect, it } from "vitest";

import { flight } from "../test/render";
import type { Booking } from "../types";
import { groupTrips, outcomeOf } from "./booking";

function booking(overrides: Partial<Booking> = {}): Booking {
  const f = overrides.flight ?? flight();
  return {
    id: crypto.randomUUID(),
    user_id: "u",
    flight_id: f.id,
    seats: 1,
    status: "CONFIRMED",
    payment_ref: "pay_1",
    created_at: "2027-01-01T10:00:00.123456Z",
    updated_at: "2027-01-01T10:00:00.123456Z",
    flight: f,
    ...overrides,
  };
}

describe("my bookings", () => {
  it("shows the legs of one connecting booking as one trip, in travel order", () => {
    const second = booking({ flight: flight({ departure_ts: "2027-01-05T09:00:00Z" }) });
    const first = booking({ flight: flight({ departure_ts: "2027-01-05T05:00:00Z" }) });
    const single = booking({ created_at: "2027-01-01T09:00:00Z" });
    const trips = groupTrips([second, first, single]);
    expect(trips).toHaveLength(2);
    expect(trips[0]!.bookings).toEqual([first, second]);
    expect(trips[0]!.referenceId).toBe(first.id);
    expect(trips[1]!.bookings).toEqual([single]);
  });

  it("recognises legs by their shared creation instant when the API leaves group_id out", () => {
    const a = booking();
    const b = booking({ flight: flight({ departure_ts: "2027-01-06T00:00:00Z" }) });
    const other = booking({ created_at: "2027-01-01T10:00:00.999999Z" });
    expect(groupTrips([a, b, other]).map((t) => t.bookings.length)).toEqual([2, 1]);
  });

  it("uses the first leg's booking as the reference, the same as after booking", () => {
    const legs = [booking({ flight: flight({ departure_ts: "2027-01-05T09:00:00Z" }) }), booking()];
    const outcome = outcomeOf({ group_id: "g", status: "CONFIRMED", total_price: 1, bookings: legs });
    expect(outcome.id).toBe(legs[1]!.id);
    expect(groupTrips(legs)[0]!.referenceId).toBe(outcome.id);
  });
});
