import { describe, expect, it } from "vitest";

import { flight, itinerary } from "../test/render";
import { layovers, seatsLeft, stopsLabel } from "./itinerary";

describe("itineraries", () => {
  const direct = itinerary([flight({ price: 9000, departure_ts: "2027-01-05T03:00:00Z", arrival_ts: "2027-01-05T05:00:00Z" })]);
  const connecting = itinerary([
    flight({ price: 3000, destination: "Pune", arrival_ts: "2027-01-05T02:30:00Z", available_seats: 3 }),
    flight({ price: 2000, source: "Pune", departure_ts: "2027-01-05T04:00:00Z", arrival_ts: "2027-01-05T06:00:00Z" }),
  ]);

  it("measure each layover between legs", () => {
    expect(layovers(connecting)).toEqual([{ airport: "Pune", minutes: 90 }]);
    expect(layovers(direct)).toEqual([]);
  });

  it("have as many seats left as their fullest leg", () => {
    expect(seatsLeft(connecting)).toBe(3);
  });

  it("name their stops", () => {
    expect(stopsLabel(0)).toBe("Non-stop");
    expect(stopsLabel(1)).toBe("1 stop");
    expect(stopsLabel(2)).toBe("2 stops");
  });
});
