import { expect, test, type Page } from "@playwright/test";

import { DECLINED_URL, adminApi, ist, loggedInAs, screenshot, searchFor, travelDate, unique } from "./support";

// A second API process over the same data whose payments always fail (PAYMENT_SUCCESS_RATE=0).
test.use({ baseURL: DECLINED_URL });

const date = travelDate(4);

test.beforeAll(async () => {
  const admin = await adminApi();
  await admin.createFlight({ flight_number: unique("P"), source: "Chennai", destination: "Kochi", departure_ts: ist(date, "08:00"), arrival_ts: ist(date, "09:20"), total_seats: 10, price: 3200.5 });
  await admin.dispose();
});

test("a declined payment is shown clearly, books nothing and can be retried", async ({ page }) => {
  await loggedInAs(page, unique("declined_"), DECLINED_URL);
  await page.goto("/");
  await searchFor(page, "Chennai", "Kochi", date);
  const card = page.getByTestId("itinerary").first();
  await expect(card.getByTestId("itinerary-price")).toHaveText("₹3,200.50");
  await card.getByTestId("select-itinerary").click();
  await fillOnePassenger(page);

  await page.getByTestId("order-pay").click();
  const failed = page.getByTestId("order-failed");
  await expect(failed).toContainText("Payment failed");
  await expect(failed).toContainText("not charged");
  await screenshot(page, "booking-payment-failed");

  // Retrying is a new attempt (new Idempotency-Key), so the server tries the payment again.
  const keys: string[] = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/api/v1/orders") && r.method() === "POST") keys.push(r.headers()["idempotency-key"] ?? "");
  });
  await page.getByTestId("order-retry").click();
  await expect(failed).toBeVisible();
  await expect.poll(() => keys.length).toBe(1);
  expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);

  // Nothing was booked: no trip to cancel.
  await page.goto("/trips");
  await expect(page.getByTestId("cancel-trip")).toHaveCount(0);
});

test("a declined payment of a hold keeps the seats held and can be retried", async ({ page }) => {
  await loggedInAs(page, unique("heldpay_"), DECLINED_URL);
  await page.goto(`/?from=Chennai&to=Kochi&date=${date}&seats=1`);
  await page.getByTestId("itinerary").first().getByTestId("select-itinerary").click();
  await fillOnePassenger(page);
  await page.getByTestId("order-hold").click();
  await expect(page.getByTestId("order-status")).toHaveText("HELD");
  await page.getByTestId("pay-order").click();
  await expect(page.getByTestId("pay-error")).toContainText("declined");
  await expect(page.getByTestId("order-status")).toHaveText("HELD");
  await expect(page.getByTestId("pay-order")).toBeEnabled();
});

async function fillOnePassenger(page: Page): Promise<void> {
  await page.getByTestId("passenger-0-given").fill("Lakshmi");
  await page.getByTestId("passenger-0-family").fill("Nair");
  await page.getByTestId("passenger-0-born").fill("1979-11-03");
  await page.getByTestId("contact-email").fill("lakshmi@example.com");
  await page.getByTestId("passengers-continue").click();
}
