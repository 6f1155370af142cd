import { expect, request, test, type APIRequestContext, type Page } from "@playwright/test";

import type { Flight, Order, Token } from "../src/types";
import { BASE_URL, PASSWORD, adminApi, ist, loggedInAs, screenshot, searchFor, travelDate, unique } from "./support";

// Kolkata ⇄ Hyderabad on days no other spec uses, so the results are this spec's flights only.
const outDate = travelDate(6);
const retDate = travelDate(9);
let outbound: Flight;
let back: Flight;
let single: Flight;

test.beforeAll(async () => {
  const admin = await adminApi();
  const n = unique("O");
  outbound = await admin.createFlight({ flight_number: `${n}-1`, source: "Kolkata", destination: "Hyderabad", departure_ts: ist(outDate, "07:00"), arrival_ts: ist(outDate, "09:10"), total_seats: 40, price: 5000 });
  back = await admin.createFlight({ flight_number: `${n}-2`, source: "Hyderabad", destination: "Kolkata", departure_ts: ist(retDate, "18:00"), arrival_ts: ist(retDate, "20:05"), total_seats: 40, price: 4500 });
  single = await admin.createFlight({ flight_number: `${n}-3`, source: "Kolkata", destination: "Hyderabad", departure_ts: ist(outDate, "15:00"), arrival_ts: ist(outDate, "17:00"), total_seats: 40, price: 6100.5 });
  await admin.dispose();
});

/** Every page of the flow fits a phone: nothing wider than the 390 px viewport. */
async function expectNoOverflow(page: Page): Promise<void> {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(390);
}

/** A day `days` before `date` (YYYY-MM-DD). */
function daysBefore(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

async function userApi(username: string): Promise<APIRequestContext> {
  const anonymous = await request.newContext({ baseURL: BASE_URL });
  await anonymous.post("/api/v1/auth/register", { data: { username, password: PASSWORD } });
  const token = await anonymous.post("/api/v1/auth/token", { form: { username, password: PASSWORD } });
  const { access_token } = (await token.json()) as Token;
  await anonymous.dispose();
  return request.newContext({ baseURL: BASE_URL, extraHTTPHeaders: { Authorization: `Bearer ${access_token}` } });
}

async function orderThroughApi(api: APIRequestContext, flightId: string, familyName: string, hold = false): Promise<Order> {
  const response = await api.post("/api/v1/orders", {
    data: {
      slices: [{ flight_ids: [flightId] }],
      passengers: [{ given_name: "Meera", family_name: familyName, born_on: "1980-05-05", type: "adult" }],
      contact: { email: "meera@example.com" },
      hold,
    },
  });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()) as Order;
}

test.describe("at phone width", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("a return trip for two adults and an infant is paid now, and its confirmation survives a reload", async ({ page }) => {
    test.slow(); // the whole journey, with four reloads, on a shared 2-core machine
    await loggedInAs(page, unique("family_"));
    await page.goto("/");
    await page.getByTestId("search-return-date").fill(retDate);
    await searchFor(page, "Kolkata", "Hyderabad", outDate, 3);
    await expect(page).toHaveURL(new RegExp(`return=${retDate}`));
    const outCard = page.getByTestId("itinerary").filter({ hasText: outbound.flight_number });
    await outCard.getByTestId("select-itinerary").click();

    // The return's results follow, under the chosen outbound; a reload keeps both.
    await expect(page.getByTestId("return-heading")).toContainText("Hyderabad → Kolkata");
    await expect(page.getByTestId("chosen-outbound")).toContainText(outbound.flight_number);
    await page.reload();
    await expect(page.getByTestId("chosen-outbound")).toContainText(outbound.flight_number, { timeout: 30_000 });
    await expectNoOverflow(page);
    await page.getByTestId("itinerary").filter({ hasText: back.flight_number }).getByTestId("select-itinerary").click();

    await expect(page).toHaveURL(/\/trip\/passengers\?.*out=.*ret=/);
    await expect(page.getByTestId("passenger-form")).toHaveCount(3);
    await page.getByTestId("passenger-0-given").fill("Asha");
    await page.getByTestId("passenger-0-family").fill("Sen-Gupta");
    await page.getByTestId("passenger-0-born").fill("1986-04-12");
    await page.getByTestId("passenger-1-given").fill("Rahul");
    await page.getByTestId("passenger-1-family").fill("Sen-Gupta");
    await page.getByTestId("passenger-1-born").fill("1984-09-30");
    await page.getByTestId("passenger-2-given").fill("Mira");
    await page.getByTestId("passenger-2-family").fill("Sen-Gupta");
    // Under 2 on the first departure: an infant, on a lap.
    await page.getByTestId("passenger-2-born").fill(daysBefore(outDate, 300));
    await expect(page.getByTestId("passenger-type")).toHaveText(["Adult", "Adult", "Infant"]);

    // A bad name is refused before any request.
    await page.getByTestId("passenger-1-given").fill("R4hul");
    await page.getByTestId("contact-email").fill("asha@example.com");
    await page.getByTestId("passengers-continue").click();
    await expect(page.getByText("Use letters, spaces, ' or - only")).toBeVisible();
    await page.getByTestId("passenger-1-given").fill("Rahul");

    // What was typed survives a reload (kept in this tab, not in the URL).
    await page.reload();
    await expect(page.getByTestId("passenger-2-family")).toHaveValue("Sen-Gupta", { timeout: 30_000 });
    await expect(page.getByTestId("contact-email")).toHaveValue("asha@example.com");
    await expectNoOverflow(page);
    await page.getByTestId("passengers-continue").click();

    // Review: both slices, the passengers, and the breakdown: 2 seats per flight + 10% for the infant.
    await expect(page).toHaveURL(/\/trip\/review\?/);
    await expect(page.getByTestId("slice")).toHaveCount(2);
    await expect(page.getByTestId("price-line-amount")).toHaveText(["₹10,500", "₹9,450"]);
    await expect(page.getByTestId("review-total")).toHaveText("₹19,950");
    await page.reload();
    await expect(page.getByTestId("review-total")).toHaveText("₹19,950", { timeout: 30_000 });
    await expectNoOverflow(page);
    await screenshot(page, "order-review-phone");

    await page.getByTestId("order-pay").click();
    await expect(page).toHaveURL(/\/trips\/[0-9a-f-]{36}$/);
    await expect(page.getByTestId("order-status")).toHaveText("CONFIRMED");
    const reference = page.getByTestId("order-reference");
    await expect(reference).toHaveText(/^[A-HJ-NP-Z2-9]{6}$/);
    const ref = (await reference.textContent())!;
    await expect(page.getByTestId("order-total-price")).toHaveText("₹19,950");
    await expect(page.getByTestId("passenger")).toHaveCount(3);
    await expect(page.getByTestId("print-itinerary")).toBeVisible();
    await expectNoOverflow(page);
    await screenshot(page, "order-confirmation-phone");

    await page.reload();
    await expect(page.getByTestId("order-reference")).toHaveText(ref, { timeout: 30_000 });
    await expect(page.getByTestId("slice")).toHaveCount(2);

    // My trips lists it as upcoming.
    await page.goto("/trips");
    const trip = page.getByTestId("trip").filter({ hasText: ref });
    await expect(trip.getByTestId("trip-status")).toHaveText("CONFIRMED");
    await expect(trip.getByTestId("cancel-trip")).toBeVisible();
    await expectNoOverflow(page);
  });

  test("a hold shows its deadline and is paid later from My trips", async ({ page }) => {
    await loggedInAs(page, unique("holder_"));
    await page.goto(`/?from=Kolkata&to=Hyderabad&date=${outDate}&seats=1`);
    await page.getByTestId("itinerary").filter({ hasText: single.flight_number }).getByTestId("select-itinerary").click();
    await page.getByTestId("passenger-0-given").fill("Kiran");
    await page.getByTestId("passenger-0-family").fill("D'Souza");
    await page.getByTestId("passenger-0-born").fill("1990-01-20");
    await page.getByTestId("contact-email").fill("kiran@example.com");
    await page.getByTestId("passengers-continue").click();
    await expect(page.getByTestId("review-total")).toHaveText("₹6,100.50");

    await page.getByTestId("order-hold").click();
    await expect(page.getByTestId("order-status")).toHaveText("HELD");
    await expect(page.getByTestId("order-deadline")).toContainText("held until");
    const ref = (await page.getByTestId("order-reference").textContent())!;
    await expectNoOverflow(page);

    await page.getByTestId("go-to-trips").click();
    const trip = page.getByTestId("trip").filter({ hasText: ref });
    await expect(trip.getByTestId("trip-status")).toHaveText("HELD");
    await expect(trip.getByTestId("trip-deadline")).toContainText("Pay by");
    await screenshot(page, "my-trips-held-phone");
    await trip.getByTestId("pay-order").click();
    await expect(trip.getByTestId("trip-status")).toHaveText("CONFIRMED");
    await expect(trip.getByTestId("pay-order")).toHaveCount(0);
  });

  test("anyone finds a booking by its reference and a passenger's family name", async ({ page }) => {
    const owner = await userApi(unique("owner_"));
    const order = await orderThroughApi(owner, single.id, "Fernandes");
    await owner.dispose();

    await page.goto("/manage");
    await page.getByTestId("manage-reference").fill(order.reference.toLowerCase());
    await page.getByTestId("manage-family-name").fill("Fernandez");
    await page.getByTestId("manage-submit").click();
    await expect(page.getByTestId("manage-error")).toContainText("No booking matches");

    // Any case of the family name finds it.
    await page.getByTestId("manage-family-name").fill("fernandes");
    await page.getByTestId("manage-submit").click();
    const result = page.getByTestId("manage-result");
    await expect(result.getByTestId("order-reference")).toHaveText(order.reference);
    await expect(result.getByTestId("order-status")).toHaveText("CONFIRMED");
    await expect(result.getByTestId("passenger")).toContainText("Meera Fernandes");
    await expectNoOverflow(page);
    await page.reload();
    await expect(page.getByTestId("manage-result").getByTestId("order-reference")).toHaveText(order.reference, { timeout: 30_000 });
    await screenshot(page, "manage-booking-phone");
  });

  test("cancelling shows the refund first, then cancels and returns the seats", async ({ page }) => {
    const username = unique("canceller_");
    const api = await userApi(username);
    const order = await orderThroughApi(api, single.id, "Iyer");
    await api.dispose();
    await loggedInAs(page, username);

    await page.goto("/trips");
    const trip = page.getByTestId("trip").filter({ hasText: order.reference });
    await trip.getByTestId("cancel-trip").click();
    const dialog = page.getByRole("dialog");
    // More than 24 h before departure: the whole price back.
    await expect(page.getByTestId("cancel-refund")).toHaveText("₹6,100.50");
    await expect(page.getByTestId("cancel-quote-valid")).toContainText("before");
    await expectNoOverflow(page);
    await screenshot(page, "cancel-quote-phone");
    await page.getByTestId("confirm-cancel").click();
    await expect(dialog).toBeHidden();
    await expect(trip.getByTestId("trip-status")).toHaveText("CANCELLED");
    await expect(trip.getByTestId("trip-refund")).toHaveText("Refunded ₹6,100.50");
    await expect(trip.getByTestId("cancel-trip")).toHaveCount(0);
  });
});
