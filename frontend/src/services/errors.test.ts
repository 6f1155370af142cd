import { describe, expect, it } from "vitest";

import { ApiError } from "./errors";

describe("API errors become messages people can act on", () => {
  it("splits a 422 detail array per field", () => {
    const error = new ApiError(422, [
      { loc: ["body", "price"], msg: "Input should be greater than or equal to 0", type: "greater_than_equal" },
      { loc: ["body"], msg: "Value error, source and destination must differ", type: "value_error" },
    ]);
    expect(error.fieldErrors).toEqual([
      { field: "price", message: "Input should be greater than or equal to 0" },
      { field: null, message: "source and destination must differ" },
    ]);
    expect(error.message).toBe("Price: Input should be greater than or equal to 0; source and destination must differ");
  });

  it("shows a 409 detail string as it is", () => {
    expect(new ApiError(409, "Not enough seats").message).toBe("Not enough seats");
  });

  it("explains statuses without a detail", () => {
    expect(new ApiError(0, null).message).toMatch(/Cannot reach/);
    expect(new ApiError(503, null).message).toMatch(/briefly unavailable/);
    expect(new ApiError(500, null).message).toMatch(/HTTP 500/);
  });
});
