// Times on the wire are UTC; people read them in the airport's own time zone.

/** The seed's cities, all in India. Mirrors the backend's pre-filled `airports` table. */
export const KNOWN_TIMEZONES: Readonly<Record<string, string>> = Object.fromEntries(
  [
    "Ahmedabad",
    "Bangalore",
    "Bengaluru",
    "Chandigarh",
    "Chennai",
    "Delhi",
    "Goa",
    "Guwahati",
    "Hyderabad",
    "Jaipur",
    "Kochi",
    "Kolkata",
    "Lucknow",
    "Mumbai",
    "Pune",
  ].map((city) => [city, "Asia/Kolkata"]),
);

export const FALLBACK_TIMEZONE = "UTC";

export type TimezoneLookup = (airport: string) => string;

export function makeTimezoneLookup(extra: Record<string, string> = {}): TimezoneLookup {
  return (airport) => extra[airport] ?? KNOWN_TIMEZONES[airport] ?? FALLBACK_TIMEZONE;
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();
function format(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  let formatter = timeFormats.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", { timeZone, ...options });
    timeFormats.set(key, formatter);
  }
  return formatter;
}

/** "14:05" in the given zone. */
export function formatTime(iso: string, timeZone: string): string {
  return format(timeZone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
}

/** "Tue 5 Jan" in the given zone. */
export function formatDay(iso: string, timeZone: string): string {
  return format(timeZone, { weekday: "short", day: "numeric", month: "short" }).format(new Date(iso));
}

/** "Tue 5 Jan 2027, 14:05" in the given zone. */
export function formatDateTime(iso: string, timeZone: string): string {
  return format(timeZone, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(iso));
}

const abbreviations = new Map<string, Intl.DateTimeFormat>();

/**
 * The zone's abbreviation at an instant (now by default): "IST", "EST" / "EDT", "GMT" / "BST",
 * "UTC"; where no locale has a name for it, its offset ("GMT+13").
 */
export function zoneLabel(timeZone: string, at: string | Date = new Date()): string {
  if (timeZone === "Asia/Kolkata") return "IST";
  if (timeZone === "UTC" || timeZone === "Etc/UTC") return "UTC";
  let offset = timeZone;
  for (const locale of ["en-US", "en-GB", "en-AU", "en-NZ", "en-IN"]) {
    const key = `${locale}|${timeZone}`;
    let formatter = abbreviations.get(key);
    if (!formatter) {
      formatter = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: "short" });
      abbreviations.set(key, formatter);
    }
    const name = formatter.formatToParts(new Date(at)).find((p) => p.type === "timeZoneName")?.value;
    if (name && /^[A-Z]{2,5}$/.test(name)) return name;
    if (name && offset === timeZone) offset = name;
  }
  return offset;
}

/** YYYY-MM-DD of an instant in the given zone. */
export function localDate(iso: string | Date, timeZone: string): string {
  const parts = format(timeZone, { year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** Whole days between the local dates of two instants, each in its own zone ("+1" on an overnight arrival). */
export function dayOffset(fromIso: string, fromZone: string, toIso: string, toZone: string): number {
  const a = Date.parse(`${localDate(fromIso, fromZone)}T00:00:00Z`);
  const b = Date.parse(`${localDate(toIso, toZone)}T00:00:00Z`);
  return Math.round((b - a) / 86_400_000);
}

export function formatDuration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = Math.round(minutes % 60);
  if (h === 0) return `${m}m`;
  return m === 0 ? `${h}h` : `${h}h ${m}m`;
}

export function minutesBetween(fromIso: string, toIso: string): number {
  return Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 60_000);
}

function offsetMinutes(instant: number, timeZone: string): number {
  const parts = format(timeZone, {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUtc - instant) / 60_000);
}

/**
 * The UTC instant (ISO 8601, "Z") of a wall-clock time "YYYY-MM-DDTHH:mm" in a zone. Two passes
 * settle the offset across a DST change; a time in a DST gap lands just after it.
 */
export function zonedToUtc(wall: string, timeZone: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(wall);
  if (!match) throw new Error(`not a local date-time: ${wall}`);
  const [, y, mo, d, h, mi] = match.map(Number) as [number, number, number, number, number, number];
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  let instant = guess - offsetMinutes(guess, timeZone) * 60_000;
  instant = guess - offsetMinutes(instant, timeZone) * 60_000;
  return new Date(instant).toISOString().replace(".000Z", "Z");
}

/** "YYYY-MM-DDTHH:mm" of an instant in a zone: the value for an <input type="datetime-local">. */
export function utcToZoned(iso: string, timeZone: string): string {
  const time = formatTime(iso, timeZone);
  return `${localDate(iso, timeZone)}T${time}`;
}

/** Today's date in a zone, YYYY-MM-DD. */
export function today(timeZone: string, now: Date = new Date()): string {
  return localDate(now, timeZone);
}

export function addDays(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}
