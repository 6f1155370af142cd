import { Button, Group, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router-dom";

import { formatPrice } from "../../lib/money";
import * as api from "../../services/api";
import { useTimezoneLookup } from "../../services/hooks";
import type { SearchParams } from "../../types";
import SliceSummary from "./SliceSummary";

/** Above the return's results: the outbound already chosen (from the URL), with a way back to change it. */
export default function ReturnStep({ search, returnDate }: { search: SearchParams; returnDate: string }) {
  const [url, setUrl] = useSearchParams();
  const timezoneOf = useTimezoneLookup();
  const ids = (url.get("out") ?? "").split(",");
  const outbound = useQuery({ queryKey: ["search", search], queryFn: () => api.search(search), staleTime: 15_000 });
  const chosen = outbound.data?.find((i) => i.flights.length === ids.length && i.flights.every((f, n) => f.id === ids[n]));

  const change = () => {
    const query = new URLSearchParams(url);
    query.delete("out");
    setUrl(query);
  };

  return (
    <Stack gap="sm" data-testid="return-step">
      {chosen ? (
        <SliceSummary label={`Outbound · ${formatPrice(chosen.total_price)}`} flights={chosen.flights} timezoneOf={timezoneOf} testId="chosen-outbound" />
      ) : (
        <Text size="sm" c="dimmed">
          Outbound chosen.
        </Text>
      )}
      <Group justify="space-between" wrap="wrap">
        <Title order={3} size="h4" data-testid="return-heading">
          Choose your return: {search.destination} → {search.source}, {returnDate}
        </Title>
        <Button variant="subtle" size="xs" onClick={change} data-testid="change-outbound">
          Change outbound
        </Button>
      </Group>
    </Stack>
  );
}
