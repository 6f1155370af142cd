import type { Itinerary } from "../types";

// The chosen itinerary rides along in router state and in sessionStorage, so the booking page
// survives a reload (there is no public "get flight" endpoint to refetch it from).
const KEY = "flightdesk.selection";

export interface Selection {
  itinerary: Itinerary;
  seats: number;
}

export function saveSelection(selection: Selection): void {
  sessionStorage.setItem(KEY, JSON.stringify(selection));
}

export function loadSelection(flightIds: string[]): Selection | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const selection = JSON.parse(raw) as Selection;
    const ids = selection.itinerary.flights.map((f) => f.id);
    return ids.length === flightIds.length && ids.every((id, i) => id === flightIds[i]) ? selection : null;
  } catch {
    return null;
  }
}
