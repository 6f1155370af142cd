// Every page of the app at phone width (390 × 844): nothing may stick out sideways, and the actions
// listed for a page stay wholly on screen. PHONE_ROUTES is the list of pages: a new page (or a new
// state of one, such as an open dialog) is one more entry, with whom it is visited as, how to open
// it and what to wait for before measuring.
import { expect, request, test, type Page } from "@playwright/test";

import { adminApi, ADMIN, BASE_URL, horizontalOverflow, ist, screenshot, tokenFor, travelDate, unique, useToken } from "./support";

const PHONE = { width: 390, height: 844 };

/** What the pages are about: made once, through the API, before the first page is visited. */
interface PhoneData {
  date: string;
  emptyDate: string;
  from: string;
  to: string;
  resultsPath: string;
  userToken: string;
  adminToken: string;
  orderId: string;
  reference: string;
}

type Role = "anonymous" | "user" | "admin";

export interface PhoneRoute {
  name: string;
  as: Role;
  /** Where to go; the route's path as App.tsx declares it, with its query. */
  path: (data: PhoneData) => string;
  /** Wait until the page shows what it is about; may click on (open a dialog, a menu, a step). */
  ready: (page: Page, data: PhoneData) => Promise<void>;
  /** Test ids whose every element must lie wholly inside the viewport (actions that must stay reachable). */
  onScreen?: string[];
}

const visible = (testId: string) => async (page: Page) => {
  await expect(page.getByTestId(testId).first()).toBeVisible();
};

async function uploadWithErrors(page: Page, data: PhoneData): Promise<void> {
  const n = unique("P");
  const csv = [
    "flight_number,source,destination,departure_ts,arrival_ts,total_seats,price",
    `${n}-1,${data.from},${data.to},${data.date}T03:30:00Z,${data.date}T05:00:00Z,120,3100`,
    `${n}-2,${data.from},${data.from},${data.date}T03:30:00Z,${data.date}T05:00:00Z,120,3100`,
    `${n}-3,${data.from},${data.to},not-a-time,${data.date}T05:00:00Z,120,3100`,
  ].join("\n");
  await page.locator('input[type="file"]').setInputFiles({ name: "flights.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await page.getByTestId("csv-upload").click();
  await expect(page.getByTestId("job")).toHaveAttribute("data-status", "COMPLETED", { timeout: 30_000 });
  await expect(page.getByTestId("job-errors")).toBeVisible();
}

export const PHONE_ROUTES: PhoneRoute[] = [
  // --- "/" (search) logged out
  { name: "home", as: "anonymous", path: () => "/", ready: visible("search-submit") },
  {
    name: "home menu open",
    as: "anonymous",
    path: () => "/",
    ready: async (page) => {
      await page.getByTestId("burger").click();
      await expect(page.getByTestId("nav-search-mobile")).toBeVisible();
    },
  },
  {
    name: "results",
    as: "anonymous",
    path: (d) => d.resultsPath,
    ready: async (page) => {
      await expect(page.getByTestId("itinerary").first()).toBeVisible();
      await expect(page.getByTestId("calendar-strip-price").first()).toBeVisible();
    },
    onScreen: ["select-itinerary", "calendar-strip-day", "calendar-month-open", "sort"],
  },
  {
    name: "results with filters and sort",
    as: "anonymous",
    path: (d) => `${d.resultsPath}&sort=arrival&stops=1&after=05:00&before=23:00&maxh=12`,
    ready: visible("itinerary"),
    onScreen: ["clear-filters", "filter-max-hours", "filter-before"],
  },
  {
    name: "results, filters refused",
    as: "anonymous",
    path: (d) => `${d.resultsPath}&after=20:00&before=06:00`,
    ready: async (page) => {
      await page.getByTestId("filter-max-hours").fill("500");
      await expect(page.getByText("1–72 hours")).toBeVisible();
    },
  },
  {
    name: "results, month view",
    as: "anonymous",
    path: (d) => d.resultsPath,
    ready: async (page) => {
      await page.getByTestId("calendar-month-open").click();
      await expect(page.getByTestId("calendar-month-day").first()).toBeVisible();
      await expect(page.getByTestId("calendar-month-cheapest")).toBeVisible();
    },
    onScreen: ["calendar-month-day", "calendar-month-next"],
  },
  {
    name: "empty day with nearby dates",
    as: "anonymous",
    path: (d) => `/?from=${d.from}&to=${d.to}&date=${d.emptyDate}&seats=1`,
    ready: visible("nearby-date"),
    onScreen: ["nearby-date"],
  },
  {
    name: "search refused",
    as: "anonymous",
    path: (d) => d.resultsPath,
    ready: async (page) => {
      await page.getByTestId("search-seats").fill("500");
      await page.getByTestId("search-submit").click();
      await expect(page.getByText("1–9 passengers")).toBeVisible();
    },
  },
  // --- "/login", "/register"
  { name: "login", as: "anonymous", path: () => "/login", ready: visible("login-submit") },
  { name: "register", as: "anonymous", path: () => "/register", ready: visible("register-submit") },
  // --- the order flow as a user: passengers, review; the trip, My trips, manage booking
  {
    name: "trip passengers for 2",
    as: "user",
    path: (d) => d.resultsPath.replace("seats=1", "seats=2"),
    ready: async (page) => {
      await page.getByTestId("select-itinerary").first().click();
      await expect(page.getByTestId("passengers-page")).toBeVisible();
    },
    onScreen: ["passengers-continue"],
  },
  {
    name: "trip review",
    as: "user",
    path: (d) => d.resultsPath,
    ready: async (page) => {
      await page.getByTestId("select-itinerary").first().click();
      await expect(page.getByTestId("passengers-page")).toBeVisible();
      await page.getByTestId("passenger-0-given").fill("Asha");
      await page.getByTestId("passenger-0-family").fill("Rao");
      await page.getByTestId("passenger-0-born").fill("1990-04-02");
      await page.getByTestId("contact-email").fill("asha@example.com");
      await page.getByTestId("passengers-continue").click();
      await expect(page.getByTestId("review-total")).toBeVisible();
    },
    onScreen: ["order-pay", "order-hold"],
  },
  { name: "trip page", as: "user", path: (d) => `/trips/${d.orderId}`, ready: visible("confirmation-page"), onScreen: ["print-itinerary"] },
  { name: "my trips", as: "user", path: () => "/trips", ready: visible("trip") },
  { name: "manage booking", as: "anonymous", path: () => "/manage", ready: visible("manage-submit"), onScreen: ["manage-submit"] },
  {
    name: "manage booking, found",
    as: "anonymous",
    path: (d) => `/manage?reference=${d.reference}&family_name=Rao`,
    ready: visible("manage-result"),
  },
  { name: "notifications", as: "user", path: () => "/notifications", ready: visible("notifications") },
  { name: "operations", as: "admin", path: () => "/operations", ready: visible("operations-page") },
  // --- "/bookings"
  {
    name: "my bookings",
    as: "user",
    path: () => "/bookings",
    ready: visible("booking"),
    onScreen: ["cancel-booking"],
  },
  {
    name: "my bookings, cancel dialog",
    as: "user",
    path: () => "/bookings",
    ready: async (page) => {
      await page.getByTestId("cancel-booking").first().click();
      await expect(page.getByTestId("confirm-cancel")).toBeVisible();
    },
    onScreen: ["confirm-cancel"],
  },
  // --- "/admin": every tab and dialog
  { name: "admin as a traveller (forbidden)", as: "user", path: () => "/admin", ready: visible("forbidden") },
  {
    name: "admin flights",
    as: "admin",
    path: () => "/admin",
    ready: visible("flight-row"),
    onScreen: ["edit-flight", "delete-flight", "add-flight"],
  },
  {
    name: "admin flight form",
    as: "admin",
    path: () => "/admin",
    ready: async (page) => {
      await page.getByTestId("edit-flight").first().click();
      await expect(page.getByTestId("flight-form")).toBeVisible();
      await page.getByTestId("ff-seats").fill("5000");
      await page.getByTestId("ff-submit").click();
      await expect(page.getByText("1–1000 seats")).toBeVisible();
    },
    onScreen: ["ff-submit"],
  },
  {
    name: "admin delete dialog",
    as: "admin",
    path: () => "/admin",
    ready: async (page) => {
      await page.getByTestId("delete-flight").first().click();
      await expect(page.getByTestId("confirm-delete")).toBeVisible();
    },
    onScreen: ["confirm-delete"],
  },
  { name: "admin airports", as: "admin", path: () => "/admin?tab=airports", ready: visible("airport-row"), onScreen: ["airport-edit"] },
  {
    name: "admin airport timezone editing",
    as: "admin",
    path: () => "/admin?tab=airports",
    ready: async (page) => {
      await page.getByTestId("airport-edit").first().click();
      await expect(page.getByTestId("airport-timezone-save")).toBeVisible();
    },
    onScreen: ["airport-timezone-save", "airport-timezone-input"],
  },
  {
    name: "admin CSV upload with row errors",
    as: "admin",
    path: () => "/admin?tab=upload",
    ready: uploadWithErrors,
    onScreen: ["csv-upload", "job-status", "job-warning"],
  },
  // --- anything else
  { name: "not found", as: "anonymous", path: () => "/no/such/page", ready: visible("not-found") },
];

let data: PhoneData;

test.beforeAll(async () => {
  const admin = await adminApi();
  const date = travelDate(6);
  const n = unique("M");
  // Bengaluru → Thiruvananthapuram (a long name): non-stop, and cheaper via Chennai.
  const from = "Bengaluru";
  const to = `Thiruvananthapuram${n.slice(-3).replace(/[^a-z]/gi, "x")}`;
  const direct = await admin.createFlight({ flight_number: `${n}-1`, source: from, destination: to, departure_ts: ist(date, "07:00"), arrival_ts: ist(date, "08:20"), total_seats: 60, price: 12345.5 });
  const leg1 = await admin.createFlight({ flight_number: `${n}-2`, source: from, destination: "Chennai", departure_ts: ist(date, "06:00"), arrival_ts: ist(date, "07:00"), total_seats: 60, price: 3000 });
  const leg2 = await admin.createFlight({ flight_number: `${n}-3`, source: "Chennai", destination: to, departure_ts: ist(date, "08:30"), arrival_ts: ist(date, "09:45"), total_seats: 60, price: 2500 });
  // Two days later, one flight: the day between is empty and has nearby dates.
  const later = travelDate(8);
  await admin.createFlight({ flight_number: `${n}-4`, source: from, destination: to, departure_ts: ist(later, "10:00"), arrival_ts: ist(later, "11:20"), total_seats: 60, price: 9999 });
  const adminToken = ((await (await admin.post("/api/v1/auth/token", { form: ADMIN })).json()) as { access_token: string }).access_token;
  await admin.dispose();

  const userToken = await tokenFor(unique("phone_"));
  const api = await request.newContext({ baseURL: BASE_URL, extraHTTPHeaders: { Authorization: `Bearer ${userToken}` } });
  const booked = await api.post("/api/v1/booking", { data: { flight_ids: [leg1.id, leg2.id], seats: 2 } });
  expect(booked.status(), await booked.text()).toBe(201);
  const single = await api.post("/api/v1/booking", { data: { flight_id: direct.id, seats: 1 } });
  expect(single.status(), await single.text()).toBe(201);
  const ordered = await api.post("/api/v1/orders", {
    data: {
      slices: [{ flight_ids: [direct.id] }],
      passengers: [
        { given_name: "Asha", family_name: "Rao", born_on: "1990-04-02", type: "adult" },
        { given_name: "Ravi", family_name: "Rao", born_on: "2015-06-30", type: "child" },
      ],
      contact: { email: "asha@example.com" },
      hold: false,
    },
  });
  expect(ordered.status(), await ordered.text()).toBe(201);
  const order = (await ordered.json()) as { id: string; reference: string };
  await api.dispose();

  data = {
    date,
    emptyDate: travelDate(7),
    from,
    to,
    resultsPath: `/?from=${from}&to=${to}&date=${date}&seats=1`,
    userToken,
    adminToken,
    orderId: order.id,
    reference: order.reference,
  };
});

test.describe("at phone width", () => {
  test.use({ viewport: PHONE });

  for (const route of PHONE_ROUTES) {
    test(`${route.name} (${route.as}) fits in ${PHONE.width} px`, async ({ page }) => {
      await useToken(page, route.as === "user" ? data.userToken : route.as === "admin" ? data.adminToken : null);
      await page.goto(route.path(data));
      await route.ready(page, data);
      // Let fonts, late queries and transitions settle before measuring.
      await page.waitForLoadState("networkidle");
      await page.waitForTimeout(300);
      await screenshot(page, `phone-${route.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`);

      const { scrollWidth, viewport, offenders } = await horizontalOverflow(page);
      expect(viewport).toBe(PHONE.width);
      expect(offenders.slice(-12), `elements wider than the viewport on ${route.name}`).toEqual([]);
      expect(scrollWidth, `document width on ${route.name}`).toBeLessThanOrEqual(PHONE.width);

      for (const testId of route.onScreen ?? []) {
        const elements = page.getByTestId(testId);
        const count = await elements.count();
        expect(count, `${testId} on ${route.name}`).toBeGreaterThan(0);
        for (let i = 0; i < count; i += 1) {
          const box = await elements.nth(i).boundingBox();
          expect(box, `${testId} #${i} is laid out`).not.toBeNull();
          expect(box!.x, `${testId} #${i} left edge`).toBeGreaterThanOrEqual(0);
          expect(box!.x + box!.width, `${testId} #${i} right edge`).toBeLessThanOrEqual(PHONE.width);
        }
      }
    });
  }
});

test("the overflow check catches what sticks out and lets scroll containers be", async ({ page }) => {
  await page.setViewportSize(PHONE);
  await page.goto("/no/such/page");
  const measure = async (html: string) => {
    await page.evaluate((markup) => {
      document.getElementById("probe")?.remove();
      const probe = document.createElement("div");
      probe.id = "probe";
      probe.innerHTML = markup;
      document.body.prepend(probe);
    }, html);
    return horizontalOverflow(page);
  };
  const wide = await measure('<div style="width: 411px; height: 10px"></div>');
  expect(wide.offenders.join("\n")).toContain("past the viewport");
  expect(wide.scrollWidth).toBeGreaterThan(PHONE.width);

  const card = await measure(
    '<div style="width: 300px; border: 1px solid; padding: 8px"><table style="width: 340px"><tr><td>wide</td></tr></table></div>',
  );
  expect(card.offenders.join("\n")).toContain("out of its bordered box");

  const cut = await measure('<div style="width: 100px; overflow: hidden; white-space: nowrap">Leaves first Lands first Arrives</div>');
  expect(cut.offenders.join("\n")).toContain("cuts off");

  const scrolled = await measure('<div style="width: 300px; overflow-x: auto"><div style="width: 800px; height: 10px"></div></div>');
  expect(scrolled.offenders).toEqual([]);
});
