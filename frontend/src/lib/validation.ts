// Client-side checks mirroring the API's rules, so people see mistakes before a round trip.

export function validateUsername(value: string): string | null {
  const v = value.trim();
  if (!v) return "Enter a username";
  if (v.length < 3 || v.length > 32) return "Username must be 3–32 characters";
  if (!/^[A-Za-z0-9_.-]+$/.test(v)) return "Use only letters, digits, _ . and -";
  return null;
}

// What the register page tells people; the API also refuses passwords that are easy to guess
// (common ones, keyboard rows, repeats: zxcvbn) and explains which, under the field.
export const PASSWORD_RULE = "At least 8 characters, not your username, and not a common or easily guessed password";

export function validatePassword(value: string, username = ""): string | null {
  if (!value) return "Enter a password";
  if (value.length < 8) return "Password must be at least 8 characters";
  if (value.length > 128) return "Password must be at most 128 characters";
  if (!value.trim()) return "The password cannot be only spaces";
  if (username.trim() && value.toLowerCase() === username.trim().toLowerCase()) {
    return "The password cannot be your username";
  }
  return null;
}

export function validateFlightNumber(value: string): string | null {
  const v = value.trim();
  if (!v) return "Enter a flight number";
  if (v.length < 2 || v.length > 16) return "Flight number must be 2–16 characters";
  if (!/^[A-Za-z0-9][A-Za-z0-9 -]*$/.test(v)) return "Use letters, digits, spaces and -";
  return null;
}

export function validateAirport(value: string, label: string): string | null {
  const v = value.trim();
  if (!v) return `Enter ${label}`;
  if (v.length < 2 || v.length > 64) return "Airport names are 2–64 characters";
  return null;
}

export function sameAirport(a: string, b: string): boolean {
  return a.trim() !== "" && a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();
}
