import { fireEvent, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { renderUi } from "../test/render";
import SearchForm from "./SearchForm";

import type { AirportSuggestion } from "../types";

const PLACES: AirportSuggestion[] = [
  { code: "NYC", name: "New York", city: "New York", country: "US", timezone: "America/New_York", kind: "city" },
  { code: "JFK", name: "John F Kennedy International Airport", city: "New York", country: "US", timezone: "America/New_York", kind: "airport" },
  { code: "LGA", name: "Laguardia Airport", city: "New York", country: "US", timezone: "America/New_York", kind: "airport" },
  { code: "BOM", name: "Chhatrapati Shivaji International Airport", city: "Mumbai", country: "IN", timezone: "Asia/Kolkata", kind: "airport" },
];

// Stands for GET /api/v1/airports/suggest: a prefix of the code, city or name, any case.
async function suggest(q: string): Promise<AirportSuggestion[]> {
  const key = q.toLowerCase();
  return PLACES.filter((p) => [p.code ?? "", p.city ?? "", p.name].some((field) => field.toLowerCase().startsWith(key)));
}

describe("SearchForm", () => {
  it("says what is missing instead of searching", async () => {
    const onSearch = vi.fn();
    renderUi(<SearchForm suggest={suggest} onSearch={onSearch} />);
    await userEvent.click(screen.getByTestId("search-submit"));
    expect(screen.getByText("Where are you flying from?")).toBeInTheDocument();
    expect(screen.getByText("Where are you flying to?")).toBeInTheDocument();
    expect(onSearch).not.toHaveBeenCalled();
  });

  it("refuses the same airport at both ends, whatever the case", async () => {
    const onSearch = vi.fn();
    renderUi(<SearchForm suggest={suggest} onSearch={onSearch} initial={{ source: "Delhi", destination: "delhi", date: "2099-01-01", seats: 1 }} />);
    await userEvent.click(screen.getByTestId("search-submit"));
    expect(screen.getByText("Pick a destination different from the origin")).toBeInTheDocument();
    expect(onSearch).not.toHaveBeenCalled();
  });

  it("suggests airports as the user types", async () => {
    renderUi(<SearchForm suggest={suggest} onSearch={() => {}} />);
    await userEvent.type(screen.getByTestId("search-source"), "mu");
    const options = await screen.findAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual(["Mumbai BOMChhatrapati Shivaji International Airport"]);
  });

  it("puts a city above its airports and fills in the code picked", async () => {
    renderUi(<SearchForm suggest={suggest} onSearch={() => {}} />);
    await userEvent.type(screen.getByTestId("search-source"), "new york");
    const options = await screen.findAllByRole("option");
    expect(options.map((o) => o.textContent?.split(/(?<=airports\))|(?<= [A-Z]{3})/)[0])).toEqual([
      "New York (all airports)",
      "New York JFK",
      "New York LGA",
    ]);
    await userEvent.click(options[0]!);
    expect(screen.getByTestId("search-source")).toHaveValue("NYC");
  });

  it("says when no airport matches", async () => {
    renderUi(<SearchForm suggest={suggest} onSearch={() => {}} />);
    await userEvent.type(screen.getByTestId("search-destination"), "Atlantis");
    expect(await screen.findByTestId("search-destination-nomatch")).toHaveTextContent("No airport matches “Atlantis”");
  });

  it("swaps origin and destination, and searches with trimmed values", async () => {
    const onSearch = vi.fn();
    renderUi(<SearchForm suggest={suggest} onSearch={onSearch} initial={{ source: "Delhi ", destination: "Goa", date: "2099-01-01", seats: 3 }} />);
    await userEvent.click(screen.getByTestId("search-swap"));
    expect(screen.getByTestId("search-source")).toHaveValue("Goa");
    fireEvent.submit(screen.getByRole("search"));
    expect(onSearch).toHaveBeenCalledWith({ source: "Goa", destination: "Delhi", date: "2099-01-01", seats: 3 });
  });

  it("refuses 500 passengers with the range instead of searching for 5, and says so to the page", async () => {
    const onSearch = vi.fn();
    const onInvalid = vi.fn();
    renderUi(
      <SearchForm
        suggest={suggest}
        onSearch={onSearch}
        onInvalid={onInvalid}
        initial={{ source: "Delhi", destination: "Goa", date: "2099-01-01", seats: 1 }}
      />,
    );
    const seats = screen.getByTestId("search-seats");
    await userEvent.clear(seats);
    await userEvent.type(seats, "500");
    expect(seats).toHaveValue("500");
    fireEvent.submit(screen.getByRole("search"));
    expect(screen.getByText("1–9 passengers")).toBeInTheDocument();
    expect(onSearch).not.toHaveBeenCalled();
    expect(onInvalid).toHaveBeenCalledTimes(1);
  });
});
