import { Anchor, Burger, Button, Drawer, Group, Menu, Stack, Text, UnstyledButton } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { IconChevronDown, IconLogout, IconPlaneDeparture } from "@tabler/icons-react";
import { Link, NavLink, useNavigate } from "react-router-dom";

import { useAuth } from "../services/auth";
import NotificationBell from "./NotificationBell";

interface NavItem {
  to: string;
  label: string;
  testId: string;
}

export default function Header() {
  const { user, token, logout } = useAuth();
  const navigate = useNavigate();
  const [opened, { toggle, close }] = useDisclosure(false);

  const items: NavItem[] = [{ to: "/", label: "Search flights", testId: "nav-search" }];
  if (token) items.push({ to: "/trips", label: "My trips", testId: "nav-trips" });
  items.push({ to: "/manage", label: "Manage booking", testId: "nav-manage" });
  // Admin pages are not advertised to anyone else; the route itself refuses them too.
  if (user?.is_admin) items.push({ to: "/admin", label: "Admin", testId: "nav-admin" });

  const signOut = () => {
    close();
    logout();
    navigate("/");
  };

  const links = (vertical: boolean) =>
    items.map((item) => (
      <Anchor
        key={item.to}
        component={NavLink}
        to={item.to}
        end={item.to === "/"}
        onClick={close}
        data-testid={vertical ? `${item.testId}-mobile` : item.testId}
        c="dark"
        fw={500}
        underline="never"
        style={({ isActive }: { isActive: boolean }) => ({
          borderBottom: !vertical && isActive ? "2px solid var(--mantine-color-indigo-6)" : "2px solid transparent",
          paddingBlock: 4,
          color: isActive ? "var(--mantine-color-indigo-7)" : undefined,
        })}
      >
        {item.label}
      </Anchor>
    ));

  return (
    <Group h="100%" px="md" justify="space-between" wrap="nowrap" component="nav" aria-label="Main">
      <Group gap="xl" wrap="nowrap">
        <Anchor component={Link} to="/" underline="never" c="indigo.7" aria-label="FlightDesk home">
          <Group gap={6} wrap="nowrap">
            <IconPlaneDeparture size={26} aria-hidden />
            <Text fw={800} size="lg">
              FlightDesk
            </Text>
          </Group>
        </Anchor>
        <Group gap="lg" visibleFrom="sm">
          {links(false)}
        </Group>
      </Group>

      <Group gap="sm" visibleFrom="sm" wrap="nowrap">
        <NotificationBell />
        {user ? (
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <UnstyledButton data-testid="user-menu" aria-label={`Account menu for ${user.username}`}>
                <Group gap={4} wrap="nowrap">
                  <Text fw={500}>{user.username}</Text>
                  <IconChevronDown size={16} aria-hidden />
                </Group>
              </UnstyledButton>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item leftSection={<IconLogout size={16} />} onClick={signOut} data-testid="logout">
                Log out
              </Menu.Item>
            </Menu.Dropdown>
          </Menu>
        ) : token ? null : (
          <>
            <Button component={Link} to="/login" variant="subtle" data-testid="nav-login">
              Log in
            </Button>
            <Button component={Link} to="/register" data-testid="nav-register">
              Sign up
            </Button>
          </>
        )}
      </Group>

      <Group gap="xs" wrap="nowrap" hiddenFrom="sm">
        <NotificationBell mobile />
        <Burger opened={opened} onClick={toggle} aria-label="Open menu" data-testid="burger" />
      </Group>
      <Drawer opened={opened} onClose={close} title="FlightDesk" hiddenFrom="sm" size="xs" position="right">
        <Stack gap="md">
          {links(true)}
          {user ? (
            <>
              <Text c="dimmed" size="sm">
                Signed in as {user.username}
              </Text>
              <Button variant="light" leftSection={<IconLogout size={16} />} onClick={signOut} data-testid="logout-mobile">
                Log out
              </Button>
            </>
          ) : (
            <>
              <Button component={Link} to="/login" variant="light" onClick={close}>
                Log in
              </Button>
              <Button component={Link} to="/register" onClick={close}>
                Sign up
              </Button>
            </>
          )}
        </Stack>
      </Drawer>
    </Group>
  );
}
