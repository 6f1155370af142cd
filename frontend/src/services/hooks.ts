import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";

import { makeTimezoneLookup, type TimezoneLookup } from "../lib/time";
import * as api from "./api";
import { useAuth } from "./auth";

export function useAirports() {
  return useQuery({ queryKey: ["airports"], queryFn: api.airports, staleTime: 5 * 60_000 });
}

/**
 * The zone each airport's times are shown in: the seed's Indian cities are Asia/Kolkata; an admin
 * also sees the zones set in the admin API. Everything else falls back to UTC, labelled as such.
 */
export function useTimezoneLookup(): TimezoneLookup {
  const { user } = useAuth();
  const admin = useQuery({
    queryKey: ["admin", "airports"],
    queryFn: api.adminAirports,
    enabled: Boolean(user?.is_admin),
    staleTime: 5 * 60_000,
  });
  return useMemo(() => {
    const zones: Record<string, string> = {};
    // Entries marked is_default carry the server's DEFAULT_TIMEZONE, which is what search uses for them.
    for (const airport of admin.data ?? []) zones[airport.name] = airport.timezone;
    return makeTimezoneLookup(zones);
  }, [admin.data]);
}
