import { fireEvent, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { renderUi } from "../test/render";
import SearchForm from "./SearchForm";

const airports = ["Delhi", "Goa", "Mumbai"];

describe("SearchForm", () => {
  it("says what is missing instead of searching", async () => {
    const onSearch = vi.fn();
    renderUi(<SearchForm airports={airports} onSearch={onSearch} />);
    await userEvent.click(screen.getByTestId("search-submit"));
    expect(screen.getByText("Where are you flying from?")).toBeInTheDocument();
    expect(screen.getByText("Where are you flying to?")).toBeInTheDocument();
    expect(onSearch).not.toHaveBeenCalled();
  });

  it("refuses the same airport at both ends, whatever the case", async () => {
    const onSearch = vi.fn();
    renderUi(<SearchForm airports={airports} onSearch={onSearch} initial={{ source: "Delhi", destination: "delhi", date: "2099-01-01", seats: 1 }} />);
    await userEvent.click(screen.getByTestId("search-submit"));
    expect(screen.getByText("Pick a destination different from the origin")).toBeInTheDocument();
    expect(onSearch).not.toHaveBeenCalled();
  });

  it("suggests airports as the user types", async () => {
    renderUi(<SearchForm airports={airports} onSearch={() => {}} />);
    await userEvent.type(screen.getByTestId("search-source"), "Mu");
    const options = await screen.findAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual(["Mumbai"]);
  });

  it("swaps origin and destination, and searches with trimmed values", async () => {
    const onSearch = vi.fn();
    renderUi(<SearchForm airports={airports} onSearch={onSearch} initial={{ source: "Delhi ", destination: "Goa", date: "2099-01-01", seats: 3 }} />);
    await userEvent.click(screen.getByTestId("search-swap"));
    expect(screen.getByTestId("search-source")).toHaveValue("Goa");
    fireEvent.submit(screen.getByRole("search"));
    expect(onSearch).toHaveBeenCalledWith({ source: "Goa", destination: "Delhi", date: "2099-01-01", seats: 3 });
  });
});
