import { Notifications } from "@mantine/notifications";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { renderUi } from "../test/render";
import type { OrderForBanner } from "../types/operations";
import NeedsAttentionBanner from "./NeedsAttentionBanner";

// The API client keeps the fetch it was created with: it gets one that asks this test's handler.
const net = vi.hoisted(() => {
  const state: { handler: (request: Request) => Promise<Response> } = {
    handler: () => Promise.reject(new Error("no request expected")),
  };
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => state.handler(new Request(input, init))) as typeof fetch;
  return state;
});

const order = (overrides: Partial<OrderForBanner> = {}): OrderForBanner => ({
  id: "7a9e2c10-0000-4000-8000-000000000001",
  reference: "K7PQ2M",
  status: "CONFIRMED",
  needs_attention: true,
  total_price: 8400,
  refund_amount: null,
  ...overrides,
});

describe("NeedsAttentionBanner", () => {
  it("is not shown for a trip that needs nothing", () => {
    renderUi(<NeedsAttentionBanner order={order({ needs_attention: false })} />);
    expect(screen.queryByTestId("needs-attention")).toBeNull();
  });

  it("is not shown once the trip is cancelled", () => {
    renderUi(<NeedsAttentionBanner order={order({ status: "CANCELLED" })} />);
    expect(screen.queryByTestId("needs-attention")).toBeNull();
  });

  it("explains the schedule change and offers a full refund, quoted before confirming", async () => {
    const calls: string[] = [];
    net.handler = async (request) => {
      const path = new URL(request.url).pathname;
      calls.push(`${request.method} ${path}`);
      if (path.endsWith("/cancellation-quote")) {
        return Response.json({ refund_amount: 8400, expires_at: "2027-01-05T00:30:00Z" });
      }
      return Response.json({ ...order(), status: "CANCELLED", refund_amount: 8400 });
    };
    const onCancelled = vi.fn();
    renderUi(
      <>
        <Notifications />
        <NeedsAttentionBanner order={order()} onCancelled={onCancelled} />
      </>,
    );

    expect(screen.getByTestId("needs-attention")).toHaveTextContent("K7PQ2M");
    expect(screen.getByTestId("needs-attention")).toHaveTextContent("full refund");
    expect(calls).toEqual([]);

    await userEvent.click(screen.getByTestId("attention-cancel"));
    expect(await screen.findByTestId("attention-refund")).toHaveTextContent("₹8,400");
    expect(calls).toEqual(["GET /api/v1/orders/7a9e2c10-0000-4000-8000-000000000001/cancellation-quote"]);

    await userEvent.click(screen.getByTestId("attention-confirm"));
    await waitFor(() => expect(onCancelled).toHaveBeenCalledTimes(1));
    expect(calls[1]).toBe("POST /api/v1/orders/7a9e2c10-0000-4000-8000-000000000001/cancel");
  });
});
