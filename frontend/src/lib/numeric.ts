// Numbers typed by people are read whole or refused with a message: "500" passengers is an error
// ("1–9"), never 5 or 9, and "12.345" rupees is an error, never 12.34. Fields use text inputs with
// these parsers instead of inputs that clamp or cut what was typed.

export type Parsed<T> = { value: T; error: null } | { value: null; error: string };

function ok<T>(value: T): Parsed<T> {
  return { value, error: null };
}

function refused<T>(error: string): Parsed<T> {
  return { value: null, error };
}

/** The text of a field that may hold a number (a form value can be either). */
function textOf(raw: string | number | null | undefined): string {
  if (raw === null || raw === undefined) return "";
  return typeof raw === "number" ? (Number.isFinite(raw) ? String(raw) : "NaN") : raw.trim();
}

export interface WholeNumberRule {
  min: number;
  max: number;
  /** What is counted, for messages: "passengers" gives "1–9 passengers". */
  unit?: string;
}

export function rangeMessage({ min, max, unit }: WholeNumberRule): string {
  return unit ? `${min}–${max} ${unit}` : `${min}–${max}`;
}

/** A whole number in [min, max], digits only (no sign, decimals, exponent or grouping). */
export function parseWholeNumber(raw: string | number | null | undefined, rule: WholeNumberRule): Parsed<number> {
  const text = textOf(raw);
  if (text === "") return refused(`Enter a number (${rangeMessage(rule)})`);
  if (/^[+-]?\d*[.,]\d*$/.test(text) && /\d/.test(text)) return refused(`Whole numbers only (${rangeMessage(rule)})`);
  if (!/^\d+$/.test(text)) return refused(`Enter a number (${rangeMessage(rule)})`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < rule.min || n > rule.max) return refused(rangeMessage(rule));
  return ok(n);
}

/** Like parseWholeNumber, but an empty field is fine and means "no value". */
export function parseOptionalWholeNumber(
  raw: string | number | null | undefined,
  rule: WholeNumberRule,
): Parsed<number | null> {
  if (textOf(raw) === "") return ok(null);
  return parseWholeNumber(raw, rule);
}

/** Below ₹10 crore (the API's NUMERIC(10,2)). */
export const MAX_PRICE = 100_000_000;

/**
 * A price in rupees: digits with Indian or western comma grouping allowed, at most 2 decimals,
 * not negative, below MAX_PRICE.
 */
export function parsePrice(raw: string | number | null | undefined): Parsed<number> {
  const text = textOf(raw);
  if (text === "") return refused("Enter a price");
  if (text.startsWith("-")) return refused("Price cannot be negative");
  const plain = text.replace(/,/g, "");
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(plain)) return refused("Enter a price in rupees, such as 4500 or 4500.50");
  const [, decimals = ""] = plain.split(".");
  if (decimals.length > 2) return refused("At most 2 decimals");
  const n = Number(plain);
  if (!Number.isFinite(n) || n >= MAX_PRICE) return refused("Price is too large");
  return ok(n);
}

/** "HH:MM", 00:00–23:59, as the search API takes departure windows. */
export function parseClock(raw: string | null | undefined): Parsed<string> {
  const text = (raw ?? "").trim();
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!match) return refused("Enter a time as HH:MM");
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (hours > 23 || minutes > 59) return refused("Enter a time between 00:00 and 23:59");
  return ok(`${String(hours).padStart(2, "0")}:${match[2]}`);
}
