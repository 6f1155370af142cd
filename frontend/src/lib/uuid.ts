/** A random UUID v4. crypto.randomUUID exists only in secure contexts; getRandomValues everywhere. */
export function uuid(): string {
  if (typeof crypto.randomUUID === "function" && globalThis.isSecureContext) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The short, readable booking reference shown to people: the first 8 hex digits, upper case. */
export function reference(id: string): string {
  return id.replace(/-/g, "").slice(0, 8).toUpperCase();
}
