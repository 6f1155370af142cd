import { Alert, Button, Grid, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQuery } from "@tanstack/react-query";
import { IconAlertCircle, IconSearch } from "@tabler/icons-react";
import { Link, useSearchParams } from "react-router-dom";

import OrderSummary from "../components/orders/OrderSummary";
import { validateName } from "../lib/orders";
import * as api from "../services/api";
import { useAuth } from "../services/auth";
import { ApiError, errorMessage } from "../services/errors";
import { useTimezoneLookup } from "../services/hooks";

const REFERENCE = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/;

function normaliseReference(value: string): string {
  return value.trim().toUpperCase();
}

/**
 * Manage booking without an account session: a reference and a passenger's family name show the
 * trip read-only (GET /orders/lookup). Changes need the owner's login: see docs/decisions.md.
 * The two values are in the URL so a reload shows the same trip.
 */
export default function ManageBookingPage() {
  const [url, setUrl] = useSearchParams();
  const { token } = useAuth();
  const timezoneOf = useTimezoneLookup();
  const reference = normaliseReference(url.get("reference") ?? "");
  const familyName = (url.get("family_name") ?? "").trim();
  const ready = REFERENCE.test(reference) && validateName(familyName, "family name") === null;

  const form = useForm({
    mode: "controlled",
    initialValues: { reference, family_name: familyName },
    validate: {
      reference: (v) => (REFERENCE.test(normaliseReference(v)) ? null : "The reference is 6 letters and digits, as on your confirmation"),
      family_name: (v) => validateName(v, "family name"),
    },
  });

  const order = useQuery({
    queryKey: ["orders", "lookup", reference, familyName.toLowerCase()],
    queryFn: () => api.lookupOrder(reference, familyName),
    enabled: ready,
    retry: false,
  });

  const submit = form.onSubmit((values) => {
    setUrl({ reference: normaliseReference(values.reference), family_name: values.family_name.trim() });
  });

  const notFound = order.error instanceof ApiError && order.error.status === 404;
  const limited = order.error instanceof ApiError && order.error.status === 429;

  return (
    <Stack maw={760} mx="auto" py="md" gap="md" data-testid="manage-page">
      <Title order={2}>Manage booking</Title>
      <Paper withBorder p="md" component="form" onSubmit={submit} noValidate aria-label="Find a booking">
        <Grid gap="sm" align="flex-end">
          <Grid.Col span={{ base: 12, sm: 4 }}>
            <TextInput label="Booking reference" maxLength={6} autoCapitalize="characters" data-testid="manage-reference" {...form.getInputProps("reference")} />
          </Grid.Col>
          <Grid.Col span={{ base: 12, sm: 5 }}>
            <TextInput label="Family name of a passenger" maxLength={64} data-testid="manage-family-name" {...form.getInputProps("family_name")} />
          </Grid.Col>
          <Grid.Col span={{ base: 12, sm: 3 }}>
            <Button type="submit" fullWidth leftSection={<IconSearch size={16} />} loading={order.isFetching} data-testid="manage-submit">
              Find
            </Button>
          </Grid.Col>
        </Grid>
      </Paper>

      {order.isError && (
        <Alert color={notFound ? "orange" : "red"} icon={<IconAlertCircle />} role="alert" data-testid="manage-error">
          {notFound
            ? "No booking matches that reference and family name. Check both against your confirmation."
            : limited
              ? "Too many look-ups from here. Wait a minute and try again."
              : errorMessage(order.error)}
        </Alert>
      )}

      {order.data && (
        <Paper withBorder p="md" data-testid="manage-result">
          <OrderSummary
            order={order.data}
            timezoneOf={timezoneOf}
            actions={
              <Text size="sm" c="dimmed" data-testid="manage-owner-hint">
                To pay a hold or cancel, {token ? "open it from" : "log in to the account that booked it and open"}{" "}
                <Link to={`/trips/${order.data.id}`}>the trip in My trips</Link>.
              </Text>
            }
          />
        </Paper>
      )}
    </Stack>
  );
}
