import { Alert, Anchor, Button, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";
import { IconAlertCircle } from "@tabler/icons-react";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";

import * as api from "../services/api";
import { ApiError, errorMessage } from "../services/errors";
import { PASSWORD_RULE, validatePassword, validateUsername } from "../lib/validation";
import { safeNext } from "./LoginPage";

export default function RegisterPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const form = useForm({
    mode: "controlled",
    initialValues: { username: "", password: "", confirm: "" },
    validate: {
      username: validateUsername,
      password: (v, values) => validatePassword(v, values.username),
      confirm: (v, values) => (v === values.password ? null : "Passwords do not match"),
    },
  });

  const submit = form.onSubmit(async ({ username, password }) => {
    setError(null);
    setSubmitting(true);
    try {
      await api.register(username.trim(), password);
      const query = new URLSearchParams({ registered: "1", username: username.trim() });
      if (next !== "/") query.set("next", next);
      navigate(`/login?${query}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) form.setFieldError("username", "That username is taken");
      else if (e instanceof ApiError && e.fieldErrors.some((f) => f.field)) {
        e.fieldErrors.forEach((f) => f.field && form.setFieldError(f.field, f.message));
      } else setError(errorMessage(e));
    } finally {
      setSubmitting(false);
    }
  });

  return (
    <Stack maw={420} mx="auto" py="xl">
      <Title order={2}>Create your account</Title>
      <Paper withBorder p="lg" component="form" onSubmit={submit} noValidate aria-label="Create account">
        <Stack>
          {error && (
            <Alert color="red" icon={<IconAlertCircle />} role="alert" data-testid="register-error">
              {error}
            </Alert>
          )}
          <TextInput
            label="Username"
            description="3–32 letters, digits, _ . or -"
            autoComplete="username"
            data-testid="register-username"
            {...form.getInputProps("username")}
          />
          <PasswordInput
            label="Password"
            description={PASSWORD_RULE}
            autoComplete="new-password"
            data-testid="register-password"
            {...form.getInputProps("password")}
          />
          <PasswordInput
            label="Confirm password"
            autoComplete="new-password"
            data-testid="register-confirm"
            {...form.getInputProps("confirm")}
          />
          <Button type="submit" loading={submitting} data-testid="register-submit">
            Create account
          </Button>
          <Text size="sm" c="dimmed" ta="center">
            Already have an account?{" "}
            <Anchor component={Link} to="/login">
              Log in
            </Anchor>
          </Text>
        </Stack>
      </Paper>
    </Stack>
  );
}
