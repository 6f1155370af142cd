import { Alert, Anchor, Button, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconAlertCircle, IconClock } from "@tabler/icons-react";
import { useState } from "react";
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from "react-router-dom";

import { useAuth } from "../services/auth";
import { errorMessage } from "../services/errors";

/** Only same-site paths: `next` comes from the URL and must not send people elsewhere. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export default function LoginPage() {
  const { login, token, expired } = useAuth();
  const [params] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const next = safeNext(params.get("next"));
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const justRegistered = params.get("registered") === "1";

  const form = useForm({
    mode: "controlled",
    initialValues: { username: params.get("username") ?? "", password: "" },
    validate: {
      username: (v) => (v.trim() ? null : "Enter your username"),
      password: (v) => (v ? null : "Enter your password"),
    },
  });

  if (token && !submitting) return <Navigate to={next} replace state={location.state} />;

  const submit = form.onSubmit(async ({ username, password }) => {
    setError(null);
    setSubmitting(true);
    try {
      await login(username.trim(), password);
      navigate(next, { replace: true, state: location.state });
    } catch (e) {
      setError(errorMessage(e));
      setSubmitting(false);
    }
  });

  return (
    <Stack maw={420} mx="auto" py="xl">
      <Title order={2}>Log in</Title>
      {expired && !error && (
        <Alert color="yellow" icon={<IconClock />} data-testid="session-expired">
          Your session has expired. Please log in again.
        </Alert>
      )}
      {justRegistered && !error && (
        <Alert color="green" data-testid="registered">
          Account created. Log in to continue.
        </Alert>
      )}
      <Paper withBorder p="lg" component="form" onSubmit={submit} noValidate aria-label="Log in">
        <Stack>
          {error && (
            <Alert color="red" icon={<IconAlertCircle />} data-testid="login-error" role="alert">
              {error}
            </Alert>
          )}
          <TextInput
            label="Username"
            autoComplete="username"
            data-testid="login-username"
            {...form.getInputProps("username")}
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            data-testid="login-password"
            {...form.getInputProps("password")}
          />
          <Button type="submit" loading={submitting} data-testid="login-submit">
            Log in
          </Button>
          <Text size="sm" c="dimmed" ta="center">
            New to FlightDesk?{" "}
            <Anchor component={Link} to={`/register${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>
              Create an account
            </Anchor>
          </Text>
        </Stack>
      </Paper>
    </Stack>
  );
}
