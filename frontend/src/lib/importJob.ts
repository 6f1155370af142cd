// How a CSV import job reads to an admin. A job the API calls COMPLETED may still have skipped rows
// (bad rows are reported and the job completes): that is a warning, never the all-good green.
import type { BulkJob } from "../types";

export type JobTone = "waiting" | "running" | "success" | "warning" | "failure";

export interface JobOutcome {
  tone: JobTone;
  label: string;
  color: string;
}

const plural = (n: number, word: string) => `${n.toLocaleString("en-IN")} ${word}${n === 1 ? "" : "s"}`;

export function jobOutcome(job: BulkJob): JobOutcome {
  const failed = job.summary?.failed ?? 0;
  switch (job.status) {
    case "PENDING":
      return { tone: "waiting", label: "Pending", color: "gray" };
    case "IN_PROGRESS":
      return { tone: "running", label: "In progress", color: "blue" };
    case "FAILED":
      return { tone: "failure", label: "Failed", color: "red" };
    case "COMPLETED":
      return failed > 0
        ? { tone: "warning", label: `Completed with ${plural(failed, "error")}`, color: "yellow" }
        : { tone: "success", label: "Completed", color: "green" };
  }
}

/** Percent of rows processed; a finished job is at 100 whatever its counts. */
export function progressOf(job: BulkJob | undefined): number {
  const summary = job?.summary;
  if (!job) return 0;
  if (job.status === "COMPLETED") return 100;
  if (!summary || summary.total_rows <= 0) return 0;
  return Math.min(100, Math.round((summary.processed_rows / summary.total_rows) * 100));
}
