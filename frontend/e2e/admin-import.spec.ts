// An import that skipped rows is a warning, not a success; a new upload clears the old import's card;
// the flight form refuses numbers out of range instead of clamping or cutting them.
import { expect, test } from "@playwright/test";

import { ADMIN, tokenFor, travelDate, unique, useToken } from "./support";

const date = travelDate(12);

test.beforeEach(async ({ page }) => {
  await useToken(page, await tokenFor(ADMIN.username, ADMIN.password));
});

test("an import with failed rows completes as a yellow warning, and a new upload clears its card", async ({ page }) => {
  await page.goto("/admin?tab=upload");
  const n = unique("W");
  const csv = [
    "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price",
    `${n}-1,Kochi,Pune,${date}T03:30:00Z,${date}T05:00:00Z,120,3100`,
    `${n}-2,Kochi,Pune,${date}T06:30:00Z,${date}T08:00:00Z,120,3200`,
    `${n}-3,Kochi,Kochi,${date}T03:30:00Z,${date}T05:00:00Z,120,3100`,
    `${n}-4,Kochi,Pune,${date}T09:30:00Z,${date}T08:00:00Z,120,3100`,
    `${n}-5,Kochi,Pune,${date}T10:30:00Z,${date}T12:00:00Z,0,3100`,
  ].join("\n");
  await page.locator('input[type="file"]').setInputFiles({ name: "flights.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByTestId("csv-upload").click();
  const job = page.getByTestId("job");
  await expect(job).toHaveAttribute("data-status", "COMPLETED", { timeout: 30_000 });
  await expect(job).toHaveAttribute("data-outcome", "warning");
  await expect(page.getByTestId("job-status")).toHaveText("Completed with 3 errors");
  await expect(page.getByTestId("job-warning")).toContainText("3 of 5 rows were not imported");
  // Yellow, not the green of a clean import.
  const color = await page.getByTestId("job-status").evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(color).not.toMatch(/rgb\(\s*64,\s*192,\s*87\s*\)/);
  await expect(page.getByTestId("job-inserted")).toHaveText("2");
  await expect(page.getByTestId("job-failed")).toHaveText("3");

  // A clean file: green "Completed", and the earlier card is gone.
  const clean = [
    "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price",
    `${n}-6,Kochi,Pune,${date}T13:30:00Z,${date}T15:00:00Z,120,3300`,
  ].join("\n");
  await page.locator('input[type="file"]').setInputFiles({ name: "clean.csv", mimeType: "text/csv", buffer: Buffer.from(clean) });
  await page.getByTestId("csv-upload").click();
  await expect(job).toHaveAttribute("data-outcome", "success", { timeout: 30_000 });
  await expect(page.getByTestId("job-status")).toHaveText("Completed");
  await expect(page.getByTestId("job-warning")).toHaveCount(0);

  // A file refused at once (bad header): no card of an earlier import stays beside the error.
  await page.locator('input[type="file"]').setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from("nope,header\n1,2\n") });
  await page.getByTestId("csv-upload").click();
  await expect(page.getByTestId("csv-upload-error")).toBeVisible();
  await expect(job).toHaveCount(0);
});

test("the flight form refuses seats and prices out of range instead of clamping or cutting them", async ({ page }) => {
  await page.goto("/admin");
  await page.getByTestId("add-flight").click();
  await page.getByTestId("ff-seats").fill("5000");
  await page.getByTestId("ff-price").fill("12.345");
  await page.getByTestId("ff-submit").click();
  await expect(page.getByText("1–1000 seats")).toBeVisible();
  await expect(page.getByText("At most 2 decimals")).toBeVisible();
  // What was typed stays as typed, for the admin to correct.
  await page.getByTestId("ff-number").click();
  await expect(page.getByTestId("ff-seats")).toHaveValue("5000");
  await expect(page.getByTestId("ff-price")).toHaveValue("12.345");
  await page.getByTestId("ff-seats").fill("-3");
  await page.getByTestId("ff-submit").click();
  await expect(page.getByText("Enter a number (1–1000 seats)")).toBeVisible();
});
