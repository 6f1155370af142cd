import { expect, request, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";

import type { Flight, FlightInput, Token } from "../src/types";
import type { Order } from "../src/types/operations";
import { ADMIN, BASE_URL, PASSWORD, adminApi, ist, loginViaUi, screenshot, travelDate, unique } from "./support";

// Days and routes no other spec uses, so the admin table's first page holds this spec's flights.
const date = travelDate(11);

async function travellerApi(username: string): Promise<{ api: APIRequestContext; token: string }> {
  const anonymous = await request.newContext({ baseURL: BASE_URL });
  const created = await anonymous.post("/api/v1/auth/register", { data: { username, password: PASSWORD } });
  expect(created.status(), await created.text()).toBe(201);
  const response = await anonymous.post("/api/v1/auth/token", { form: { username, password: PASSWORD } });
  const { access_token } = (await response.json()) as Token;
  await anonymous.dispose();
  const api = await request.newContext({ baseURL: BASE_URL, extraHTTPHeaders: { Authorization: `Bearer ${access_token}` } });
  return { api, token: access_token };
}

async function order(api: APIRequestContext, flightIds: string[], passengers: [string, string][]): Promise<Order> {
  const response = await api.post("/api/v1/orders", {
    data: {
      slices: [{ flight_ids: flightIds }],
      passengers: passengers.map(([given_name, family_name]) => ({ given_name, family_name, born_on: "1984-03-09", type: "adult" })),
      contact: { email: "traveller@example.com" },
      hold: false,
    },
  });
  expect(response.status(), await response.text()).toBe(201);
  const placed = (await response.json()) as Order;
  expect(placed.status).toBe("CONFIRMED");
  return placed;
}

/** A page of its own (cookies and storage apart from the admin's) signed in with `token`. */
async function travellerPage(browser: Browser, token: string, viewport = { width: 1280, height: 860 }): Promise<Page> {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport, locale: "en-GB", timezoneId: "Asia/Kolkata" });
  const page = await context.newPage();
  await page.goto("/");
  await page.evaluate((t) => localStorage.setItem("flightdesk.token", t), token);
  return page;
}

async function noSidewaysScroll(page: Page): Promise<void> {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
}

test("an operator reads a booked flight's manifest, sees what cancelling it does, cancels it, and the traveller is told", async ({ page, browser }) => {
  test.slow(); // two users, two browser contexts, and a cancellation across both
  const admin = await adminApi();
  const n = unique("X");
  const flight = await admin.createFlight({
    flight_number: n,
    source: "Guwahati",
    destination: "Chandigarh",
    departure_ts: ist(date, "07:15"),
    arrival_ts: ist(date, "10:05"),
    total_seats: 60,
    price: 5200,
  });
  await admin.dispose();
  const username = unique("pax_");
  const traveller = await travellerApi(username);
  const placed = await order(traveller.api, [flight.id], [["Asha", "Verma"], ["Ravi", "Verma"]]);

  // --- The operator finds the flight and its manifest.
  await page.goto("/login");
  await loginViaUi(page, ADMIN.username, ADMIN.password);
  await page.goto("/admin");
  await page.getByTestId("filter-source").fill("Guwahati");
  await page.keyboard.press("Escape");
  await page.getByTestId("filter-date").fill(date);
  const row = page.locator(`[data-testid="flight-row"][data-flight-number="${n}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId("flight-status")).toHaveCount(0);

  await row.getByTestId("manifest-flight").click();
  const entry = page.getByTestId("manifest-entry");
  await expect(entry).toHaveCount(1);
  await expect(entry).toHaveAttribute("data-reference", placed.reference);
  await expect(entry).toHaveAttribute("data-status", "CONFIRMED");
  await expect(entry.getByTestId("manifest-passenger")).toHaveText([/VERMA, Asha/, /VERMA, Ravi/]);
  await expect(page.getByTestId("manifest-passengers")).toHaveText("2");
  await expect(entry).toContainText(username);
  await screenshot(page, "ops-manifest");
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("manifest")).toHaveCount(0);

  // --- "Cancel flight" shows its impact before anything happens.
  await row.getByTestId("cancel-flight").click();
  await expect(page.getByTestId("impact-orders")).toHaveText("1");
  await expect(page.getByTestId("impact-passengers")).toHaveText("2");
  await expect(page.getByTestId("impact-refund")).toHaveText("₹10,400");
  await screenshot(page, "ops-cancel-impact");
  await page.getByTestId("confirm-cancel-flight").click();
  await expect(page.getByTestId("cancel-flight-dialog")).toHaveCount(0);
  await expect(row.getByTestId("flight-status")).toHaveText("Cancelled");
  await expect(row.getByTestId("cancel-flight")).toBeDisabled();

  // The order is cancelled with a full refund.
  const after = (await (await traveller.api.get(`/api/v1/orders/${placed.id}`)).json()) as Order;
  expect(after.status).toBe("CANCELLED");
  expect(after.refund_amount).toBe(10_400);

  // --- The traveller sees a badge, then the notification; reading them clears the badge.
  const mine = await travellerPage(browser, traveller.token);
  await mine.goto("/");
  const badge = mine.getByTestId("notification-badge");
  await expect(badge).not.toHaveAttribute("data-count", "0");
  await mine.getByTestId("notification-bell").click();
  await expect(mine).toHaveURL(/\/notifications$/);
  const cancelled = mine.locator('[data-testid="notification"][data-kind="flight_cancelled"]');
  await expect(cancelled).toHaveCount(1);
  await expect(cancelled).toContainText(placed.reference);
  await screenshot(mine, "ops-notifications");
  await expect(badge).toHaveAttribute("data-count", "0");
  await mine.context().close();
  await traveller.api.dispose();
});

test("a schedule change that breaks a connection shows the traveller the banner with a full refund", async ({ browser }) => {
  test.slow();
  const admin = await adminApi();
  const n = unique("S");
  const first: FlightInput = {
    flight_number: `${n}-1`,
    source: "Kochi",
    destination: "Pune",
    departure_ts: ist(date, "06:00"),
    arrival_ts: ist(date, "08:00"),
    total_seats: 50,
    price: 3000,
  };
  const second: FlightInput = {
    flight_number: `${n}-2`,
    source: "Pune",
    destination: "Lucknow",
    departure_ts: ist(date, "09:30"),
    arrival_ts: ist(date, "11:20"),
    total_seats: 50,
    price: 3500,
  };
  const one = await admin.createFlight(first);
  const two: Flight = await admin.createFlight(second);
  const traveller = await travellerApi(unique("conn_"));
  const placed = await order(traveller.api, [one.id, two.id], [["Kiran", "Nair"]]);
  expect(placed.needs_attention).toBe(false);

  // The operator moves the second flight to 08:15: 15 minutes to connect, under the minimum.
  const moved = await admin.put(`/admin/flights/${two.id}`, {
    data: { ...second, departure_ts: ist(date, "08:15"), arrival_ts: ist(date, "10:05") },
  });
  expect(moved.status(), await moved.text()).toBe(200);
  await admin.dispose();

  // On a phone: the trip carries the banner, the refund is quoted before the traveller confirms.
  const page = await travellerPage(browser, traveller.token, { width: 390, height: 844 });
  await page.goto("/trips");
  const trip = page.locator(`[data-testid="trip"][data-reference="${placed.reference}"]`);
  const banner = trip.getByTestId("needs-attention");
  await expect(banner).toBeVisible();
  await expect(banner).toContainText("schedule has changed");
  await noSidewaysScroll(page);
  await screenshot(page, "ops-needs-attention");
  await banner.getByTestId("attention-cancel").click();
  await expect(banner.getByTestId("attention-refund")).toHaveText("₹6,500");
  await banner.getByTestId("attention-confirm").click();
  await expect(trip).toHaveAttribute("data-status", "CANCELLED");
  await expect(banner).toHaveCount(0);
  const after = (await (await traveller.api.get(`/api/v1/orders/${placed.id}`)).json()) as Order;
  expect(after.status).toBe("CANCELLED");
  expect(after.refund_amount).toBe(6500);

  // The schedule change is in the notifications too.
  await page.goto("/notifications");
  await expect(page.locator('[data-testid="notification"][data-kind="schedule_changed"]')).toHaveCount(1);
  await noSidewaysScroll(page);
  await page.context().close();
  await traveller.api.dispose();
});

test("the operations page fits a phone: departures, routes by day and recent imports", async ({ browser }) => {
  test.slow();
  const admin = await adminApi();
  const csv = [
    "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price",
    `${unique("I")},Jaipur,Goa,${date}T03:30:00Z,${date}T05:40:00Z,80,4100`,
    `${unique("I")},Goa,Goa,${date}T03:30:00Z,${date}T05:40:00Z,80,4100`,
  ].join("\n");
  const upload = await admin.post("/admin/flights/bulk-upload", {
    multipart: { file: { name: "ops.csv", mimeType: "text/csv", buffer: Buffer.from(csv) } },
  });
  expect(upload.status(), await upload.text()).toBe(202);
  const token = ((await (await request.newContext({ baseURL: BASE_URL })).post("/api/v1/auth/token", { form: ADMIN }).then((r) => r.json())) as Token).access_token;
  await admin.dispose();

  const page = await travellerPage(browser, token, { width: 390, height: 844 });
  await page.goto("/admin");
  await page.getByTestId("open-operations").click();
  await expect(page.getByTestId("operations-page")).toBeVisible();
  const job = page.getByTestId("import-job").first();
  await expect(job).toHaveAttribute("data-status", "COMPLETED", { timeout: 30_000 });
  await expect(job.getByTestId("import-counts")).toContainText("1 failed");
  const download = page.waitForEvent("download");
  await job.getByTestId("import-errors-csv").click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/errors\.csv$/);
  await page.getByTestId("routes-from").fill(date);
  await page.getByTestId("routes-to").fill(date);
  await expect(page.getByTestId("route-row").filter({ hasText: "Jaipur → Goa" })).toBeVisible();
  await noSidewaysScroll(page);
  await screenshot(page, "ops-page-phone");
  // A reload keeps the page (it is the app's route, not the API's).
  await page.reload();
  await expect(page.getByTestId("operations-page")).toBeVisible();
  await page.context().close();
});
