import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";

import { makeTimezoneLookup, type TimezoneLookup } from "../lib/time";
import * as api from "./api";
import { useAuth } from "./auth";

export function useAirports() {
  return useQuery({ queryKey: ["airports"], queryFn: api.airports, staleTime: 5 * 60_000 });
}

/**
 * The zone each airport's times are shown in: the one search uses, from the API (every airport in
 * a flight, GET /api/v1/airports/places); an admin also sees airports set up without flights yet.
 * Until those load, the seed's Indian cities are Asia/Kolkata and the rest UTC, labelled as such.
 */
export function useTimezoneLookup(): TimezoneLookup {
  const { user } = useAuth();
  const places = useQuery({ queryKey: ["airports", "places"], queryFn: api.airportPlaces, staleTime: 60_000 });
  const admin = useQuery({
    queryKey: ["admin", "airports"],
    queryFn: api.adminAirports,
    enabled: Boolean(user?.is_admin),
    staleTime: 5 * 60_000,
  });
  return useMemo(() => {
    const zones: Record<string, string> = {};
    for (const airport of admin.data ?? []) zones[airport.name] = airport.timezone;
    for (const place of places.data ?? []) zones[place.name] = place.timezone;
    return makeTimezoneLookup(zones);
  }, [admin.data, places.data]);
}
