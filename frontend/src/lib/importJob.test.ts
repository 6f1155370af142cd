import { describe, expect, it } from "vitest";

import type { BulkJob } from "../types";
import { jobOutcome, progressOf } from "./importJob";

function job(status: BulkJob["status"], failed = 0, total = 10, processed = total): BulkJob {
  return {
    job_id: "00000000-0000-4000-8000-000000000001",
    status,
    summary: { total_rows: total, processed_rows: processed, inserted: total - failed, updated: 0, failed, errors: [] },
  };
}

describe("an import job", () => {
  it("that completed with failed rows is a yellow warning naming them, not a green success", () => {
    expect(jobOutcome(job("COMPLETED", 8))).toEqual({ tone: "warning", label: "Completed with 8 errors", color: "yellow" });
    expect(jobOutcome(job("COMPLETED", 1)).label).toBe("Completed with 1 error");
  });

  it("that completed with every row is a success", () => {
    expect(jobOutcome(job("COMPLETED"))).toEqual({ tone: "success", label: "Completed", color: "green" });
  });

  it("that could not run is a failure; one still going is not finished", () => {
    expect(jobOutcome(job("FAILED")).tone).toBe("failure");
    expect(jobOutcome(job("IN_PROGRESS", 0, 10, 4)).tone).toBe("running");
    expect(jobOutcome(job("PENDING")).tone).toBe("waiting");
  });

  it("shows its progress in rows processed", () => {
    expect(progressOf(job("IN_PROGRESS", 0, 10, 4))).toBe(40);
    expect(progressOf(job("COMPLETED", 8))).toBe(100);
    expect(progressOf(undefined)).toBe(0);
  });
});
