import { expect, test } from "@playwright/test";

import { adminApi, ist, loginViaUi, registerViaUi, screenshot, searchFor, travelDate, unique } from "./support";

const date = travelDate(3);

test.beforeAll(async () => {
  const admin = await adminApi();
  // Delhi → Goa: cheapest via Mumbai (1 stop), dearer via Pune, dearest but fastest non-stop.
  const n = unique("T");
  await admin.createFlight({ flight_number: `${n}-1`, source: "Delhi", destination: "Mumbai", departure_ts: ist(date, "06:00"), arrival_ts: ist(date, "08:10"), total_seats: 50, price: 4000 });
  await admin.createFlight({ flight_number: `${n}-2`, source: "Mumbai", destination: "Goa", departure_ts: ist(date, "10:00"), arrival_ts: ist(date, "11:15"), total_seats: 50, price: 2500 });
  await admin.createFlight({ flight_number: `${n}-3`, source: "Delhi", destination: "Pune", departure_ts: ist(date, "07:00"), arrival_ts: ist(date, "09:00"), total_seats: 50, price: 3000 });
  await admin.createFlight({ flight_number: `${n}-4`, source: "Pune", destination: "Goa", departure_ts: ist(date, "11:00"), arrival_ts: ist(date, "12:00"), total_seats: 50, price: 3900 });
  await admin.createFlight({ flight_number: `${n}-5`, source: "Delhi", destination: "Goa", departure_ts: ist(date, "09:00"), arrival_ts: ist(date, "11:30"), total_seats: 50, price: 9500 });
  await admin.dispose();
});

test("a traveller registers, finds a connecting itinerary, books it, sees it and cancels it", async ({ page }) => {
  const username = unique("traveller_");
  await registerViaUi(page, username);
  await screenshot(page, "login");
  await loginViaUi(page, username);

  // Autosuggest is keyboard-usable: type, arrow down, enter.
  // The API suggests by code, city or name in any case: "del" is Delhi's airport, DEL.
  await page.getByTestId("search-source").fill("del");
  await expect(page.getByRole("option", { name: /New Delhi DEL/ })).toBeVisible();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("search-source")).toHaveValue("DEL");
  await page.getByTestId("search-destination").fill("Atlantis");
  await expect(page.getByTestId("search-destination-nomatch")).toHaveText("No airport matches “Atlantis”");

  // The swap button exchanges origin and destination.
  await page.getByTestId("search-destination").fill("Goa");
  await page.keyboard.press("Escape");
  await page.getByTestId("search-swap").click();
  await expect(page.getByTestId("search-source")).toHaveValue("Goa");
  await expect(page.getByTestId("search-destination")).toHaveValue("DEL");
  await page.getByTestId("search-swap").click();

  await searchFor(page, "Delhi", "Goa", date, 2);
  const cards = page.getByTestId("itinerary");
  await expect(cards).toHaveCount(3);
  await expect(page).toHaveURL(/from=Delhi&to=Goa/);

  // Cheapest first: via Mumbai, both legs with numbers, IST times and the layover.
  const cheapest = cards.first();
  await expect(cheapest.getByTestId("itinerary-stops")).toHaveText("1 stop");
  await expect(cheapest.getByTestId("leg-times").first()).toHaveText("06:00 – 08:10");
  await expect(cheapest.getByTestId("leg-times").nth(1)).toHaveText("10:00 – 11:15");
  await expect(cheapest.getByTestId("layover")).toHaveText("1h 50m layover in Mumbai");
  await expect(cheapest.getByTestId("itinerary-duration")).toHaveText("5h 15m total");
  await expect(cheapest.getByTestId("itinerary-price")).toHaveText("₹6,500");
  await expect(cheapest.getByTestId("itinerary-total")).toHaveText("₹13,000 for 2");
  await screenshot(page, "search-results");

  // Fastest first: the non-stop.
  await page.getByText("Fastest").click();
  await expect(cards.first().getByTestId("itinerary-stops")).toHaveText("Non-stop");
  await page.getByText("Cheapest").click();
  await expect(cards.first().getByTestId("itinerary-price")).toHaveText("₹6,500");

  await cards.first().getByTestId("select-itinerary").click();
  await expect(page).toHaveURL(/\/trip\/passengers\?.*seats=2.*&out=[^&]+(,|%2C)[^&]+/);
  for (const [index, given] of ["Asha", "Ravi"].entries()) {
    await page.getByTestId(`passenger-${index}-given`).fill(given);
    await page.getByTestId(`passenger-${index}-family`).fill("Kapoor");
    await page.getByTestId(`passenger-${index}-born`).fill(`198${index}-02-14`);
  }
  await page.getByTestId("contact-email").fill(`${username}@example.com`);
  await page.getByTestId("passengers-continue").click();
  await expect(page.getByTestId("review-total")).toHaveText("₹13,000");
  await screenshot(page, "booking");

  // A double click books once: the button is busy after the first click, and both carry one key.
  await page.getByTestId("order-pay").dblclick();
  await expect(page.getByTestId("order-confirmed")).toBeVisible();
  await expect(page.getByTestId("order-reference")).toHaveText(/^[A-HJ-NP-Z2-9]{6}$/);
  const ref = await page.getByTestId("order-reference").textContent();
  await screenshot(page, "booking-confirmed");

  // One trip of two legs, booked once, under the same reference.
  await page.getByTestId("go-to-trips").click();
  const trips = page.getByTestId("trip");
  await expect(trips).toHaveCount(1);
  await expect(trips.getByTestId("trip-status")).toHaveText("CONFIRMED");
  await expect(trips.getByTestId("trip-reference")).toHaveText(ref!);
  await expect(trips.getByTestId("leg")).toHaveCount(2);
  await screenshot(page, "my-bookings");

  await trips.getByTestId("cancel-trip").click();
  await expect(page.getByRole("dialog")).toContainText("All flights of the trip are cancelled together");
  await page.getByTestId("confirm-cancel").click();
  await expect(trips.getByTestId("trip-status")).toHaveText("CANCELLED");
  await expect(trips.getByTestId("cancel-trip")).toHaveCount(0);
  await screenshot(page, "my-bookings-cancelled");

  await page.getByTestId("user-menu").click();
  await page.getByTestId("logout").click();
  await expect(page.getByTestId("nav-login")).toBeVisible();
  await expect(page.getByTestId("nav-trips")).toHaveCount(0);
});

test("search shows an empty state and validation messages", async ({ page }) => {
  await page.goto("/");
  await screenshot(page, "home");
  await page.getByTestId("search-submit").click();
  await expect(page.getByText("Where are you flying from?")).toBeVisible();
  await expect(page.getByText("Where are you flying to?")).toBeVisible();

  await searchFor(page, "Delhi", "delhi", date);
  await expect(page.getByText("Pick a destination different from the origin")).toBeVisible();

  await searchFor(page, "Goa", "Chandigarh", date);
  await expect(page.getByTestId("results-empty")).toContainText("No flights found");
});

test("an expired or rejected token sends the user to login and back", async ({ page }) => {
  const username = unique("expiring_");
  await registerViaUi(page, username);
  await loginViaUi(page, username);
  // A token the server refuses (forged signature, still unexpired by its own claim).
  const forged = `e30.${btoa(JSON.stringify({ sub: "x", exp: 4102444800 })).replace(/=+$/, "")}.c2ln`;
  await page.evaluate((t) => localStorage.setItem("flightdesk.token", t), forged);
  await page.goto("/bookings");
  await expect(page).toHaveURL(/\/login\?next=%2Fbookings/);
  await expect(page.getByTestId("session-expired")).toBeVisible();
  await loginViaUi(page, username);
  await expect(page).toHaveURL(/\/bookings$/);
});

test("booking pages need a login", async ({ page }) => {
  await page.goto("/bookings");
  await expect(page).toHaveURL(/\/login\?next=%2Fbookings/);
  await page.goto("/trips");
  await expect(page).toHaveURL(/\/login\?next=%2Ftrips/);
});

test("the app works at phone width", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/?from=Delhi&to=Goa&date=${date}&seats=1`);
  await expect(page.getByTestId("itinerary").first()).toBeVisible();
  await expect(page.getByTestId("burger")).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await screenshot(page, "mobile-results");
  await page.getByTestId("burger").click();
  await expect(page.getByTestId("nav-search-mobile")).toBeVisible();
  await screenshot(page, "mobile-menu");
});
