import { expect, test } from "@playwright/test";

import { ADMIN, loggedInAs, loginViaUi, screenshot, travelDate, unique } from "./support";

const date = travelDate(5);

test("an admin uploads a CSV and watches it complete, then adds, edits and deletes a flight", async ({ page }) => {
  await page.goto("/login");
  await loginViaUi(page, ADMIN.username, ADMIN.password);
  await page.getByTestId("nav-admin").click();
  await expect(page.getByTestId("flights-table")).toBeVisible();
  // A client-side route survives a reload (the API serves index.html for it).
  await page.reload();
  await expect(page.getByTestId("flights-table")).toBeVisible();

  // --- CSV upload: three good rows, one bad row reported by line number.
  const n = unique("C");
  const csv = [
    "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price",
    `${n}-1,Lucknow,Jaipur,${date}T03:30:00Z,${date}T05:00:00Z,120,3100`,
    `${n}-2,Jaipur,Lucknow,${date}T07:30:00Z,${date}T09:00:00Z,120,3150.75`,
    `${n}-3,Lucknow,Ahmedabad,${date}T04:00:00Z,${date}T06:10:00Z,90,4200`,
    `${n}-4,Lucknow,Lucknow,${date}T04:00:00Z,${date}T06:10:00Z,90,4200`,
  ].join("\n");
  await page.getByTestId("tab-upload").click();
  await page.locator('input[type="file"]').setInputFiles({ name: "flights.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByTestId("csv-upload").click();
  await expect(page.getByTestId("job")).toHaveAttribute("data-status", "COMPLETED", { timeout: 30_000 });
  await expect(page.getByTestId("job-progress")).toBeVisible();
  await expect(page.getByTestId("job-inserted")).toHaveText("3");
  await expect(page.getByTestId("job-failed")).toHaveText("1");
  await expect(page.getByTestId("job-errors")).toContainText("5");
  await screenshot(page, "admin-upload");

  // --- The uploaded flights are in the table, filterable.
  await page.getByTestId("tab-flights").click();
  await page.getByTestId("filter-source").fill("Lucknow");
  await page.keyboard.press("Escape");
  await page.getByTestId("filter-date").fill(date);
  await expect(page.getByTestId("flight-row")).toHaveCount(2);
  await expect(page.getByTestId("flights-total")).toHaveText("2 flights");
  await screenshot(page, "admin-flights");

  // --- Add: validation messages first, then a real flight.
  const number = unique("A");
  await page.getByTestId("add-flight").click();
  await page.getByTestId("ff-submit").click();
  await expect(page.getByText("Enter a flight number")).toBeVisible();
  await expect(page.getByText("Enter the departure time")).toBeVisible();
  await page.getByTestId("ff-number").fill(number);
  await page.getByTestId("ff-source").fill("Hyderabad");
  await page.getByTestId("ff-destination").fill("Kolkata");
  await page.keyboard.press("Escape");
  await page.getByTestId("ff-departure").fill(`${date}T10:00`);
  await page.getByTestId("ff-arrival").fill(`${date}T09:00`);
  await page.getByTestId("ff-seats").fill("120");
  await page.getByTestId("ff-price").fill("5600");
  await page.getByTestId("ff-submit").click();
  await expect(page.getByText("Arrival must be after departure")).toBeVisible();
  await page.getByTestId("ff-arrival").fill(`${date}T12:15`);
  await screenshot(page, "admin-flight-form");
  await page.getByTestId("ff-submit").click();
  await expect(page.getByTestId("flight-form")).toHaveCount(0);

  await page.getByTestId("filter-source").fill("Hyderabad");
  await page.keyboard.press("Escape");
  const row = page.locator(`[data-testid="flight-row"][data-flight-number="${number}"]`);
  await expect(row).toBeVisible();
  await expect(row).toContainText("10:00");
  await expect(row.getByTestId("flight-price")).toHaveText("₹5,600");

  // --- The API's 409 (same number and departure) is shown in the form.
  await page.getByTestId("add-flight").click();
  await page.getByTestId("ff-number").fill(number);
  await page.getByTestId("ff-source").fill("Hyderabad");
  await page.getByTestId("ff-destination").fill("Kolkata");
  await page.keyboard.press("Escape");
  await page.getByTestId("ff-departure").fill(`${date}T10:00`);
  await page.getByTestId("ff-arrival").fill(`${date}T12:15`);
  await page.getByTestId("ff-price").fill("1");
  await page.getByTestId("ff-submit").click();
  await expect(page.getByTestId("flight-form-error")).toBeVisible();
  await screenshot(page, "admin-flight-conflict");
  await page.keyboard.press("Escape");

  // --- Edit the price.
  await row.getByTestId("edit-flight").click();
  await expect(page.getByTestId("ff-number")).toHaveValue(number);
  await expect(page.getByTestId("ff-departure")).toHaveValue(`${date}T10:00`);
  await page.getByTestId("ff-price").fill("6100");
  await page.getByTestId("ff-submit").click();
  await expect(row.getByTestId("flight-price")).toHaveText("₹6,100");

  // --- Delete.
  await row.getByTestId("delete-flight").click();
  await page.getByTestId("confirm-delete").click();
  await expect(row).toHaveCount(0);

  // --- Airport timezones.
  await page.getByTestId("tab-airports").click();
  await expect(page.locator('[data-testid="airport-row"][data-airport="Lucknow"]')).toContainText("Asia/Kolkata");
  await screenshot(page, "admin-airports");
});

test("someone who is not an admin cannot reach admin pages", async ({ page }) => {
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/login\?next=%2Fadmin/);

  await loggedInAs(page, unique("plain_"));
  await page.goto("/");
  await expect(page.getByTestId("nav-trips")).toBeVisible();
  await expect(page.getByTestId("nav-admin")).toHaveCount(0);
  await page.goto("/admin");
  await expect(page.getByTestId("forbidden")).toBeVisible();
  await expect(page.getByTestId("flights-table")).toHaveCount(0);
});
