import { Button, Group, Stack, Tabs, Title } from "@mantine/core";
import { IconChartBar, IconFileUpload, IconMapPin, IconPlane } from "@tabler/icons-react";
import { Link, useSearchParams } from "react-router-dom";

import AirportsAdmin from "../components/admin/AirportsAdmin";
import BulkUpload from "../components/admin/BulkUpload";
import FlightsAdmin from "../components/admin/FlightsAdmin";

const TABS = ["flights", "airports", "upload"] as const;
type Tab = (typeof TABS)[number];

export default function AdminPage() {
  const [url, setUrl] = useSearchParams();
  const requested = url.get("tab");
  const tab: Tab = TABS.includes(requested as Tab) ? (requested as Tab) : "flights";

  return (
    <Stack py="md" gap="md">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Title order={2}>Administration</Title>
        <Button component={Link} to="/operations" variant="light" leftSection={<IconChartBar size={16} />} data-testid="open-operations">
          Operations
        </Button>
      </Group>
      <Tabs
        value={tab}
        onChange={(value) => setUrl(value && value !== "flights" ? { tab: value } : {}, { replace: true })}
        keepMounted={false}
      >
        <Tabs.List>
          <Tabs.Tab value="flights" leftSection={<IconPlane size={16} />} data-testid="tab-flights">
            Flights
          </Tabs.Tab>
          <Tabs.Tab value="airports" leftSection={<IconMapPin size={16} />} data-testid="tab-airports">
            Airports
          </Tabs.Tab>
          <Tabs.Tab value="upload" leftSection={<IconFileUpload size={16} />} data-testid="tab-upload">
            CSV upload
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="flights" pt="md">
          <FlightsAdmin />
        </Tabs.Panel>
        <Tabs.Panel value="airports" pt="md">
          <AirportsAdmin />
        </Tabs.Panel>
        <Tabs.Panel value="upload" pt="md">
          <BulkUpload />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
