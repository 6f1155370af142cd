import { describe, expect, it } from "vitest";

import { formatPrice, multiplyPrice, sumPrices } from "./money";

describe("prices", () => {
  it("use rupees with Indian grouping and paise only when present", () => {
    expect(formatPrice(6500)).toBe("₹6,500");
    expect(formatPrice(123456)).toBe("₹1,23,456");
    expect(formatPrice(3200.5)).toBe("₹3,200.50");
  });

  it("add and multiply in paise, without floating-point dust", () => {
    expect(multiplyPrice(0.1, 3)).toBe(0.3);
    expect(sumPrices([0.1, 0.2])).toBe(0.3);
    expect(multiplyPrice(3150.75, 2)).toBe(6301.5);
  });
});
