// Figures the operations screens show, computed the same way everywhere they appear.

/** Sold seats over offered seats, 0..1; no seats offered is 0, never NaN. */
export function loadFactor(sold: number, seats: number): number {
  if (!Number.isFinite(sold) || !Number.isFinite(seats) || seats <= 0) return 0;
  return Math.min(1, Math.max(0, sold / seats));
}

/** "72%" (whole percent, rounded); a sold seat on a big aircraft shows as "<1%" rather than "0%". */
export function formatLoadFactor(factor: number): string {
  if (!Number.isFinite(factor) || factor <= 0) return "0%";
  const percent = Math.round(factor * 100);
  if (percent === 0) return "<1%";
  return `${Math.min(100, percent)}%`;
}

/** Mantine colour for a load factor: thin flights stand out red, full ones green. */
export function loadFactorColor(factor: number): string {
  if (factor >= 0.8) return "green";
  if (factor >= 0.5) return "yellow";
  return "red";
}

/** The unread badge's text: nothing for none, the count up to 99, then "99+". */
export function badgeLabel(unread: number): string | null {
  if (!Number.isFinite(unread) || unread <= 0) return null;
  return unread > 99 ? "99+" : String(Math.floor(unread));
}

/** The API path of an import job's errors as CSV (admin token required, so it is fetched, not linked). */
export function errorsCsvPath(jobId: string): string {
  return `/admin/flights/bulk-upload/status/${encodeURIComponent(jobId)}/errors.csv`;
}

/** The file name a downloaded errors CSV is saved under. */
export function errorsCsvFilename(jobId: string): string {
  return `import-${jobId.slice(0, 8)}-errors.csv`;
}

/** YYYY-MM-DD of a Date in UTC, `days` later. */
export function isoDay(from: Date, days = 0): string {
  return new Date(from.getTime() + days * 86_400_000).toISOString().slice(0, 10);
}
