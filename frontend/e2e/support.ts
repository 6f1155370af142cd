import { expect, request, type APIRequestContext, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";

import type { Flight, FlightInput, Token } from "../src/types";

export const BASE_URL = process.env.E2E_BASE_URL ?? "http://127.0.0.1:8114";
export const DECLINED_URL = process.env.E2E_DECLINED_URL ?? "http://127.0.0.1:8115";
export const ADMIN = { username: process.env.E2E_ADMIN_USER ?? "e2e_admin", password: process.env.E2E_ADMIN_PASSWORD ?? "" };
export const PASSWORD = "correct-horse-9";

const SCREENSHOTS = resolve(import.meta.dirname, "..", "screenshots");
mkdirSync(SCREENSHOTS, { recursive: true });

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** A name no earlier run or test used: usernames and flight numbers must be unique. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36).slice(-5)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

/** A date a few days ahead in India (the seed cities' zone), YYYY-MM-DD. */
export function travelDate(daysAhead = 3): string {
  const now = new Date(Date.now() + daysAhead * 86_400_000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Kolkata" }).format(now);
}

/** The UTC ISO instant of an Indian wall-clock time (IST is UTC+5:30, no DST). */
export function ist(date: string, time: string): string {
  return new Date(`${date}T${time}:00+05:30`).toISOString();
}

/** The admin API, for setting up what a test needs (the UI under test is exercised separately). */
export async function adminApi(baseURL = BASE_URL): Promise<APIRequestContext & { createFlight(f: FlightInput): Promise<Flight> }> {
  const anonymous = await request.newContext({ baseURL });
  const token = await anonymous.post("/api/v1/auth/token", { form: ADMIN });
  expect(token.ok(), `admin login: ${await token.text()}`).toBeTruthy();
  const { access_token } = (await token.json()) as Token;
  await anonymous.dispose();
  const context = await request.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${access_token}` } });
  return Object.assign(context, {
    async createFlight(flight: FlightInput): Promise<Flight> {
      const response = await context.post("/admin/flights", { data: flight });
      expect(response.status(), await response.text()).toBe(201);
      return (await response.json()) as Flight;
    },
  });
}

export async function registerViaUi(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto("/register");
  await page.getByTestId("register-username").fill(username);
  await page.getByTestId("register-password").fill(password);
  await page.getByTestId("register-confirm").fill(password);
  await page.getByTestId("register-submit").click();
  await expect(page.getByTestId("registered")).toBeVisible();
}

export async function loginViaUi(page: Page, username: string, password = PASSWORD): Promise<void> {
  if (!page.url().includes("/login")) await page.goto("/login");
  await page.getByTestId("login-username").fill(username);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await expect(page.getByTestId("user-menu")).toContainText(username);
}

/** Registers a user through the API and stores its token, for tests about something else. */
export async function loggedInAs(page: Page, username: string, baseURL = BASE_URL): Promise<void> {
  const api = await request.newContext({ baseURL });
  const created = await api.post("/api/v1/auth/register", { data: { username, password: PASSWORD } });
  expect([201, 409]).toContain(created.status());
  const token = await api.post("/api/v1/auth/token", { form: { username, password: PASSWORD } });
  const { access_token } = (await token.json()) as Token;
  await api.dispose();
  await page.goto("/");
  await page.evaluate((t) => localStorage.setItem("flightdesk.token", t), access_token);
}

export async function searchFor(page: Page, source: string, destination: string, date: string, seats = 1): Promise<void> {
  await page.getByTestId("search-source").fill(source);
  await page.getByTestId("search-destination").fill(destination);
  await page.keyboard.press("Escape");
  await page.getByTestId("search-date").fill(date);
  await page.getByTestId("search-seats").fill(String(seats));
  await page.getByTestId("search-submit").click();
}

/** A user's token from the API (registering them first if needed). */
export async function tokenFor(username: string, password = PASSWORD, baseURL = BASE_URL): Promise<string> {
  const api = await request.newContext({ baseURL });
  const created = await api.post("/api/v1/auth/register", { data: { username, password } });
  expect([201, 409]).toContain(created.status());
  const token = await api.post("/api/v1/auth/token", { form: { username, password } });
  expect(token.ok(), `login ${username}: ${await token.text()}`).toBeTruthy();
  const { access_token } = (await token.json()) as Token;
  await api.dispose();
  return access_token;
}

/** Signs the page in with a token (the app reads it from localStorage on load). */
export async function useToken(page: Page, token: string | null): Promise<void> {
  await page.goto("/");
  await page.evaluate((t) => (t ? localStorage.setItem("flightdesk.token", t) : localStorage.removeItem("flightdesk.token")), token);
}

/**
 * What sticks out sideways at the current viewport: the document's own overflow; each element
 * reaching past the viewport's edges that no scroll container of its own clips; each element
 * sticking out of a bordered box it is drawn in (a card, a dialog, an input); and each box that cuts
 * its content off sideways without a way to scroll to it (a label cut short, a control cut in half).
 */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; viewport: number; offenders: string[] }> {
  return page.evaluate(() => {
    const viewport = document.documentElement.clientWidth;
    const scrollWidth = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
    const scrolls = (style: CSSStyleDeclaration) => style.overflowX === "auto" || style.overflowX === "scroll";
    const clips = (style: CSSStyleDeclaration) => style.overflowX !== "visible";
    const bordered = (style: CSSStyleDeclaration) =>
      parseFloat(style.borderLeftWidth) > 0 && parseFloat(style.borderRightWidth) > 0 && style.borderLeftStyle !== "none";
    const describe = (el: Element, why: string) => {
      const box = el.getBoundingClientRect();
      const id = el.getAttribute("data-testid");
      const text = (el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 40);
      return (
        `${why}: <${el.tagName.toLowerCase()}${id ? ` data-testid=${id}` : ""} class="${(el.getAttribute("class") ?? "").slice(0, 60)}"> ` +
        `left ${Math.round(box.left)} right ${Math.round(box.right)} width ${Math.round(box.width)}: "${text}"`
      );
    };
    const offenders: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll("*"))) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.display === "none") continue;
      // Walk up to the first ancestor that clips or scrolls, or the first bordered one.
      let clippedInside = false;
      let frame: Element | null = null;
      for (let a = el.parentElement; a && a !== document.body && a !== document.documentElement; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (clips(s)) {
          const abox = a.getBoundingClientRect();
          if (abox.left >= -1 && abox.right <= viewport + 1) {
            clippedInside = true;
            break;
          }
          // A clipping box that is itself off-screen (a progress bar in a scrolled table): what
          // decides is whether a scroll container further up holds it.
          continue;
        }
        if (bordered(s)) {
          frame = a;
          break;
        }
      }
      if ((box.right > viewport + 1 || box.left < -1) && !clippedInside) {
        offenders.push(describe(el, "past the viewport"));
      } else if (frame) {
        const fbox = frame.getBoundingClientRect();
        if (box.right > fbox.right + 1 || box.left < fbox.left - 1) offenders.push(describe(el, "out of its bordered box"));
      }
      const tag = el.tagName.toLowerCase();
      if (clips(style) && !scrolls(style) && tag !== "input" && tag !== "textarea" && tag !== "select" && el.scrollWidth > el.clientWidth + 1) {
        offenders.push(describe(el, `cuts off ${el.scrollWidth - el.clientWidth}px of its content`));
      }
    }
    return { scrollWidth, viewport, offenders };
  });
}
