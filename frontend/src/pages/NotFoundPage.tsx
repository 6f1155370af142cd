import { Button, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";

export default function NotFoundPage() {
  return (
    <Stack align="center" py={60} gap="sm" data-testid="not-found">
      <Title order={2}>Page not found</Title>
      <Text c="dimmed">There is nothing at this address.</Text>
      <Button component={Link} to="/" variant="light">
        Search flights
      </Button>
    </Stack>
  );
}
