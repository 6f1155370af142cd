import { Button, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";

export default function ForbiddenPage() {
  return (
    <Stack align="center" py={60} gap="sm" data-testid="forbidden">
      <Title order={2}>Not available</Title>
      <Text c="dimmed" ta="center">
        This page is for FlightDesk administrators.
      </Text>
      <Button component={Link} to="/" variant="light">
        Search flights
      </Button>
    </Stack>
  );
}
