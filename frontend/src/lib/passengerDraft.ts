// What the traveller typed on the passengers step, kept in sessionStorage (this tab only) under
// the trip's selection: a reload of the passengers or review page keeps it, and names and birth
// dates never go into a URL (browser history, server logs, a shared link).
import type { PassengerDraft } from "./orders";

const PREFIX = "flightdesk.passengers.";

export interface TripDraft {
  passengers: PassengerDraft[];
  email: string;
}

export function saveDraft(key: string, draft: TripDraft): void {
  try {
    sessionStorage.setItem(PREFIX + key, JSON.stringify(draft));
  } catch {
    // Storage full or disabled: the flow still works without surviving a reload.
  }
}

export function loadDraft(key: string, count: number): TripDraft | null {
  try {
    const raw = sessionStorage.getItem(PREFIX + key);
    if (!raw) return null;
    const draft = JSON.parse(raw) as TripDraft;
    if (!Array.isArray(draft.passengers) || draft.passengers.length !== count || typeof draft.email !== "string") return null;
    const ok = draft.passengers.every(
      (p) => typeof p?.given_name === "string" && typeof p.family_name === "string" && typeof p.born_on === "string",
    );
    return ok ? draft : null;
  } catch {
    return null;
  }
}

export function clearDraft(key: string): void {
  try {
    sessionStorage.removeItem(PREFIX + key);
  } catch {
    // nothing to clear
  }
}
