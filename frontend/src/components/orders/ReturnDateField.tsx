import { CloseButton, Group, Paper, Text, TextInput } from "@mantine/core";
import { IconArrowBackUp } from "@tabler/icons-react";

interface Props {
  value: string;
  departure: string | null;
  onChange: (value: string) => void;
}

/**
 * The optional return date, beside the search form (kept out of it so the form's own fields stay
 * one component): set, the outbound's results are followed by the return's.
 */
export default function ReturnDateField({ value, departure, onChange }: Props) {
  const error = value && departure && value < departure ? "The return is before the departure" : null;
  return (
    <Paper withBorder p="xs" px="md">
      <Group gap="sm" wrap="wrap" align="center">
        <IconArrowBackUp size={18} aria-hidden color="var(--mantine-color-indigo-6)" />
        <Text size="sm" fw={500} component="label" htmlFor="return-date">
          Return (optional)
        </Text>
        <TextInput
          id="return-date"
          type="date"
          size="xs"
          value={value}
          min={departure ?? undefined}
          onChange={(event) => onChange(event.currentTarget.value)}
          error={error}
          data-testid="search-return-date"
          rightSection={value ? <CloseButton size="xs" aria-label="One way" onClick={() => onChange("")} data-testid="search-one-way" /> : null}
        />
        <Text size="xs" c="dimmed">
          {value ? "Return trip: choose the outbound, then the return." : "One way"}
        </Text>
      </Group>
    </Paper>
  );
}
