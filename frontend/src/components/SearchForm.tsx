import { ActionIcon, Button, Grid, Paper, TextInput, Tooltip } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconArrowsLeftRight, IconSearch } from "@tabler/icons-react";
import { useEffect } from "react";

import { parseWholeNumber } from "../lib/numeric";
import { earliestSearchDate, isIsoDate, PASSENGERS } from "../lib/searchParams";
import { today } from "../lib/time";
import { sameAirport } from "../lib/validation";
import * as api from "../services/api";
import AirportField, { type Suggest } from "./AirportField";
import type { SearchParams } from "../types";

interface Props {
  // Where suggestions come from (the API's GET /api/v1/airports/suggest unless a test says).
  suggest?: Suggest;
  initial?: Partial<SearchParams>;
  onSearch: (params: SearchParams) => void;
  /** The form refused what was typed (the page then hides results of an earlier search). */
  onInvalid?: () => void;
  searching?: boolean;
}

export default function SearchForm({ suggest = api.suggestAirports, initial, onSearch, onInvalid, searching = false }: Props) {
  const form = useForm({
    mode: "controlled",
    initialValues: {
      source: initial?.source ?? "",
      destination: initial?.destination ?? "",
      date: initial?.date ?? today(Intl.DateTimeFormat().resolvedOptions().timeZone),
      // Text, read whole on submit: "500" is refused with a message, never cut to 5.
      seats: String(initial?.seats ?? 1),
    },
    validate: {
      source: (v) => (v.trim() ? null : "Where are you flying from?"),
      destination: (v, values) => {
        if (!v.trim()) return "Where are you flying to?";
        if (sameAirport(v, values.source)) return "Pick a destination different from the origin";
        return null;
      },
      date: (v) => {
        if (!isIsoDate(v)) return "Pick a travel date";
        if (v < earliestSearchDate()) return "That date has passed";
        return null;
      },
      seats: (v) => parseWholeNumber(v, PASSENGERS).error,
    },
  });

  // A new search in the URL (back/forward) updates the form.
  const { source, destination, date, seats } = initial ?? {};
  useEffect(() => {
    if (source !== undefined && destination !== undefined && date !== undefined) {
      form.setValues({ source, destination, date, seats: String(seats ?? 1) });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [source, destination, date, seats]);

  const swap = () => {
    const { source: from, destination: to } = form.getValues();
    form.setValues({ source: to, destination: from });
  };

  const submit = form.onSubmit(
    (values) =>
      onSearch({
        source: values.source.trim(),
        destination: values.destination.trim(),
        date: values.date,
        seats: parseWholeNumber(values.seats, PASSENGERS).value!,
      }),
    () => onInvalid?.(),
  );

  return (
    <Paper withBorder shadow="xs" p="md" component="form" onSubmit={submit} noValidate aria-label="Search flights" role="search">
      <Grid align="flex-start" gap="sm">
        <Grid.Col span={{ base: 12, sm: 6, md: 3 }}>
          <AirportField label="From" testId="search-source" suggest={suggest} {...form.getInputProps("source")} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 6, md: 3 }} style={{ position: "relative" }}>
          <AirportField label="To" testId="search-destination" suggest={suggest} {...form.getInputProps("destination")} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: "content" }} pt={{ base: 0, md: 25 }}>
          <Tooltip label="Swap origin and destination">
            <ActionIcon
              variant="light"
              size="input-sm"
              onClick={swap}
              aria-label="Swap origin and destination"
              data-testid="search-swap"
            >
              <IconArrowsLeftRight size={18} />
            </ActionIcon>
          </Tooltip>
        </Grid.Col>
        <Grid.Col span={{ base: 7, sm: 6, md: 2 }}>
          <TextInput
            type="date"
            label="Date"
            min={earliestSearchDate()}
            data-testid="search-date"
            {...form.getInputProps("date")}
          />
        </Grid.Col>
        <Grid.Col span={{ base: 5, sm: 6, md: "auto" }}>
          <TextInput
            label="Passengers"
            inputMode="numeric"
            autoComplete="off"
            data-testid="search-seats"
            {...form.getInputProps("seats")}
          />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: "content" }} pt={{ base: 0, md: 25 }}>
          <Button
            type="submit"
            fullWidth
            leftSection={<IconSearch size={18} />}
            loading={searching}
            data-testid="search-submit"
          >
            Search
          </Button>
        </Grid.Col>
      </Grid>
    </Paper>
  );
}
