import { Anchor, Stack, Title } from "@mantine/core";
import { Link } from "react-router-dom";

import RecentImports from "../components/admin/RecentImports";
import RouteStats from "../components/admin/RouteStats";
import UpcomingDepartures from "../components/admin/UpcomingDepartures";

/** The operator's day: what leaves soon, how full each route sells, and what the last imports did. */
export default function AdminOperationsPage() {
  return (
    <Stack py="md" gap="xl" data-testid="operations-page">
      <Stack gap={4}>
        <Title order={2}>Operations</Title>
        <Anchor component={Link} to="/admin" size="sm">
          Flights, airports and CSV upload
        </Anchor>
      </Stack>
      <Stack gap="sm" component="section" aria-labelledby="ops-departures">
        <Title order={3} id="ops-departures">
          Upcoming departures
        </Title>
        <UpcomingDepartures />
      </Stack>
      <Stack gap="sm" component="section" aria-labelledby="ops-routes">
        <Title order={3} id="ops-routes">
          Routes by day
        </Title>
        <RouteStats />
      </Stack>
      <Stack gap="sm" component="section" aria-labelledby="ops-imports">
        <Title order={3} id="ops-imports">
          Recent imports
        </Title>
        <RecentImports />
      </Stack>
    </Stack>
  );
}
