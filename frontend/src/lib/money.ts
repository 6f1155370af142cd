const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR", maximumFractionDigits: 2 });

/** "₹12,345" or "₹12,345.50": Indian digit grouping, paise only when there are any. */
export function formatPrice(amount: number): string {
  return rupees.format(Math.round(amount * 100) / 100).replace(/\.00$/, "");
}

/** Price arithmetic in paise, so ₹0.10 × 3 is ₹0.30 and not 0.30000000000000004. */
export function multiplyPrice(amount: number, times: number): number {
  return (Math.round(amount * 100) * times) / 100;
}

export function sumPrices(amounts: number[]): number {
  return amounts.reduce((total, amount) => total + Math.round(amount * 100), 0) / 100;
}
