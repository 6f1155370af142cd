import { Autocomplete, Group, Text, type AutocompleteProps } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";

import type { AirportSuggestion } from "../types";

export type Suggest = (q: string) => Promise<AirportSuggestion[]>;

/** What a suggestion puts in the field: a code (an airport's or a city's) else its name. */
export function suggestionValue(s: AirportSuggestion): string {
  return s.code ?? s.name;
}

/** "New York (all airports)" for a city, "New York JFK" for an airport, its name otherwise. */
export function suggestionLabel(s: AirportSuggestion): string {
  if (s.kind === "city") return `${s.name} (all airports)`;
  if (s.code) return `${s.city || s.name} ${s.code}`;
  return s.name;
}

interface Props {
  label: string;
  testId: string;
  suggest: Suggest;
  value?: string;
  onChange: (value: string) => void;
  error?: React.ReactNode;
  onFocus?: () => void;
  onBlur?: () => void;
}

/** An airport or city, by code, city or name in any case, suggested by the API as people type. */
export default function AirportField({ label, testId, suggest, value = "", onChange, error, onFocus, onBlur }: Props) {
  const [q] = useDebouncedValue(value.trim(), 120);
  const suggestions = useQuery({
    queryKey: ["airports", "suggest", q.toLowerCase()],
    queryFn: () => suggest(q),
    enabled: q.length > 0,
    staleTime: 60_000,
  });
  const found = suggestions.data ?? [];
  const byValue = new Map(found.map((s) => [suggestionValue(s), s]));
  const noMatch = q.length > 0 && suggestions.isSuccess && found.length === 0 && value.trim() === q;
  const renderOption: AutocompleteProps["renderOption"] = ({ option }) => {
    const s = byValue.get(option.value);
    if (!s) return option.value;
    return (
      <Group gap="xs" wrap="nowrap" justify="space-between" w="100%">
        <Text size="sm" fw={s.kind === "city" ? 600 : 400}>
          {suggestionLabel(s)}
        </Text>
        <Text size="xs" c="dimmed" truncate>
          {s.kind === "airport" && s.code ? s.name : s.country ?? ""}
        </Text>
      </Group>
    );
  };
  return (
    <>
      <Autocomplete
        label={label}
        placeholder="City or airport"
        data={[...byValue.keys()]}
        // The API already matched and ranked them (code, city or name, any case).
        filter={({ options }) => options}
        renderOption={renderOption}
        limit={10}
        comboboxProps={{ withinPortal: true, shadow: "md" }}
        autoComplete="off"
        data-testid={testId}
        value={value}
        onChange={onChange}
        error={error}
        onFocus={onFocus}
        onBlur={onBlur}
      />
      {noMatch && (
        <Text size="xs" c="dimmed" mt={4} data-testid={`${testId}-nomatch`} role="status">
          No airport matches “{q}”
        </Text>
      )}
    </>
  );
}
