// Results: the server's sort and filters kept in the URL, the price calendar (strip and month), the
// nearest days with flights on an empty day, and a passengers field that refuses instead of cutting.
import { expect, test, type Page } from "@playwright/test";

import { adminApi, travelDate } from "./support";

// Airports of this run only (unknown names: their zone is the server's default, UTC), so the
// calendar of the route holds exactly the flights made here.
const tag = Array.from({ length: 6 }, () => "abcdefghijklmnopqrstuvwxyz"[Math.floor(Math.random() * 26)]).join("");
const A = `Alphaville${tag}`;
const B = `Betaport${tag}`;
const HUB = `Hubtown${tag}`;

const day = (offset: number) => {
  const t = Date.parse(`${travelDate(10)}T00:00:00Z`) + offset * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
};
const D = day(0);
const utc = (date: string, time: string) => `${date}T${time}:00Z`;
const results = (date: string, extra = "") => `/?from=${A}&to=${B}&date=${date}&seats=1${extra}`;

test.beforeAll(async () => {
  const admin = await adminApi();
  const flight = async (n: number, source: string, destination: string, date: string, dep: string, arr: string, price: number) =>
    admin.createFlight({
      flight_number: `F${tag}-${n}`,
      source,
      destination,
      departure_ts: utc(date, dep),
      arrival_ts: utc(date, arr),
      total_seats: 40,
      price,
    });
  // Day D: cheapest with a stop (3h30), a dear fast non-stop (2h) and an evening non-stop (2h30).
  await flight(1, A, B, D, "09:00", "11:00", 9000);
  await flight(2, A, HUB, D, "06:00", "07:00", 2000);
  await flight(3, HUB, B, D, "08:00", "09:30", 2000);
  await flight(4, A, B, D, "18:00", "20:30", 7000);
  // D+2 is the cheapest day; D+5 has one flight; D+1, D+3, D+4 have none.
  await flight(5, A, B, day(2), "07:00", "09:00", 3000);
  await flight(6, A, B, day(5), "10:00", "12:00", 5000);
  await admin.dispose();
});

/** The results' prices, in order, once the page shows exactly these (it retries while a search loads). */
async function expectPrices(page: Page, prices: string[]): Promise<void> {
  await expect(page.getByTestId("itinerary-price")).toHaveText(prices);
}

test("filters and the sort are the server's, live in the URL and survive a reload", async ({ page }) => {
  await page.goto(results(D));
  await expectPrices(page, ["₹4,000", "₹7,000", "₹9,000"]);

  // "Fastest" is the server's sort=duration over every itinerary, not a re-sort on screen.
  await page.getByText("Fastest").click();
  await expect(page).toHaveURL(/sort=duration/);
  await expect(page.getByTestId("itinerary-price").first()).toHaveText("₹9,000");
  await expectPrices(page, ["₹9,000", "₹7,000", "₹4,000"]);

  await page.getByTestId("filter-stops").selectOption("0");
  await expect(page).toHaveURL(/stops=0/);
  await expect(page.getByTestId("itinerary")).toHaveCount(2);
  await expectPrices(page, ["₹9,000", "₹7,000"]);

  await page.getByTestId("filter-after").fill("12:00");
  await expect(page).toHaveURL(/after=12%3A00/);
  await expect(page.getByTestId("itinerary")).toHaveCount(1);
  await expectPrices(page, ["₹7,000"]);

  await page.reload();
  await expect(page.getByTestId("itinerary")).toHaveCount(1);
  await expectPrices(page, ["₹7,000"]);
  await expect(page.getByTestId("filter-stops")).toHaveValue("0");
  await expect(page.getByTestId("filter-after")).toHaveValue("12:00");
  await expect(page.getByRole("radio", { name: "Fastest" })).toBeChecked();

  // A trip length out of range is refused with the range, and not sent.
  await page.getByTestId("filter-max-hours").fill("500");
  await expect(page.getByText("1–72 hours")).toBeVisible();
  await expect(page.getByTestId("filter-max-hours")).toHaveValue("500");
  await page.waitForTimeout(600);
  await expect(page).not.toHaveURL(/maxh=/);

  // Two hours at most: the 2h30 evening flight goes; the day has flights, so the filters are named.
  await page.getByTestId("filter-max-hours").fill("2");
  await expect(page).toHaveURL(/maxh=2/);
  await expect(page.getByTestId("results-empty")).toHaveAttribute("data-reason", "filters");
  await expect(page.getByTestId("results-empty")).toContainText("No flights match your filters");

  await page.getByTestId("empty-clear-filters").click();
  await expect(page).not.toHaveURL(/stops=|after=|maxh=/);
  await expect(page).toHaveURL(/sort=duration/);
  await expect(page.getByTestId("itinerary")).toHaveCount(3);
  await expect(page.getByTestId("filter-max-hours")).toHaveValue("");
});

test("the calendar strip shows fares around the date, marks the cheapest and changes the date", async ({ page }) => {
  await page.goto(results(D));
  const strip = page.getByTestId("calendar-strip-day");
  await expect(strip).toHaveCount(7);
  await expect(strip.nth(3)).toHaveAttribute("data-date", D);
  await expect(strip.nth(3)).toHaveAttribute("data-selected", "true");
  await expect(strip.nth(3)).toHaveAttribute("data-price", "4000");
  await expect(page.locator(`[data-testid="calendar-strip-day"][data-date="${day(1)}"]`)).not.toHaveAttribute("data-price");
  const cheapest = page.locator('[data-testid="calendar-strip-day"][data-cheapest]');
  await expect(cheapest).toHaveCount(1);
  await expect(cheapest).toHaveAttribute("data-date", day(2));
  await expect(cheapest).toHaveAttribute("data-price", "3000");

  await cheapest.click();
  await expect(page).toHaveURL(new RegExp(`date=${day(2)}`));
  await expectPrices(page, ["₹3,000"]);
  await expect(page.getByTestId("search-date")).toHaveValue(day(2));
  await expect(page.locator('[data-testid="calendar-strip-day"][data-selected]')).toHaveAttribute("data-date", day(2));

  // Back goes to the day before.
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`date=${D}`));
  await expectPrices(page, ["₹4,000", "₹7,000", "₹9,000"]);
});

test("the month view marks the cheapest day of the month and picks a date", async ({ page }) => {
  await page.goto(results(D));
  await page.getByTestId("calendar-month-open").click();
  const month = page.getByTestId("calendar-month");
  await expect(month).toHaveAttribute("data-month", D.slice(0, 7));
  const fares: Record<string, number> = { [D]: 4000, [day(2)]: 3000, [day(5)]: 5000 };
  const inMonth = Object.entries(fares).filter(([date]) => date.startsWith(D.slice(0, 7)));
  const best = Math.min(...inMonth.map(([, price]) => price));
  await expect(page.locator(`[data-testid="calendar-month-day"][data-date="${D}"]`)).toHaveAttribute("data-price", "4000");
  await expect(page.locator('[data-testid="calendar-month-day"][data-cheapest]')).toHaveAttribute("data-price", String(best));

  // To D+5's month if it is the next one, then pick it.
  if (!day(5).startsWith(D.slice(0, 7))) await page.getByTestId("calendar-month-next").click();
  await page.locator(`[data-testid="calendar-month-day"][data-date="${day(5)}"]`).click();
  await expect(month).toHaveCount(0);
  await expect(page).toHaveURL(new RegExp(`date=${day(5)}`));
  await expectPrices(page, ["₹5,000"]);
});

test("an empty day offers the nearest days with flights, each one click away", async ({ page }) => {
  await page.goto(results(day(4)));
  await expect(page.getByTestId("results-empty")).toHaveAttribute("data-reason", "no-flights");
  const nearby = page.getByTestId("nearby-date");
  await expect(nearby).toHaveCount(3);
  expect(await nearby.evaluateAll((buttons) => buttons.map((b) => b.getAttribute("data-date")))).toEqual([D, day(2), day(5)]);
  await expect(nearby.nth(2)).toContainText("₹5,000");

  await nearby.nth(2).click();
  await expect(page).toHaveURL(new RegExp(`date=${day(5)}`));
  await expectPrices(page, ["₹5,000"]);
});

test("passengers refuse 500 instead of reading 5, and a refused search leaves no old results", async ({ page }) => {
  await page.goto(results(D));
  await expect(page.getByTestId("itinerary")).toHaveCount(3);

  await page.getByTestId("search-seats").fill("500");
  await page.getByTestId("search-submit").click();
  await expect(page.getByText("1–9 passengers")).toBeVisible();
  await expect(page.getByTestId("search-seats")).toHaveValue("500");
  await expect(page).toHaveURL(/seats=1(&|$)/);
  // Nothing of the earlier search stays under the error.
  await expect(page.getByTestId("itinerary")).toHaveCount(0);
  await expect(page.getByTestId("calendar-strip")).toHaveCount(0);
  await expect(page.getByTestId("search-filters")).toHaveCount(0);

  await page.getByTestId("search-seats").fill("2.5");
  await page.getByTestId("search-submit").click();
  await expect(page.getByText("Whole numbers only (1–9 passengers)")).toBeVisible();

  await page.getByTestId("search-seats").fill("2");
  await page.getByTestId("search-submit").click();
  await expect(page).toHaveURL(/seats=2/);
  await expect(page.getByTestId("itinerary")).toHaveCount(3);
  await expect(page.getByTestId("itinerary-total").first()).toHaveText("₹8,000 for 2");
});
