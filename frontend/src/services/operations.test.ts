import { afterEach, describe, expect, it, vi } from "vitest";

import { downloadErrorsCsv } from "./operations";
import { ApiError } from "./errors";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("downloadErrorsCsv", () => {
  it("fetches the errors with the admin's token and saves them through a download link", async () => {
    // A token that has not expired (only its exp is read on this side).
    const token = `x.${btoa(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 600 }))}.y`;
    localStorage.setItem("flightdesk.token", token);
    const fetch = vi.fn(async () => new Response("row,error\n5,source equals destination\n", { status: 200 }));
    vi.stubGlobal("fetch", fetch);
    const created: Blob[] = [];
    URL.createObjectURL = vi.fn((blob: Blob) => {
      created.push(blob);
      return "blob:errors";
    });
    URL.revokeObjectURL = vi.fn();
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });

    await downloadErrorsCsv("3f2a9c1e-0000-4000-8000-000000000000");

    expect(fetch).toHaveBeenCalledTimes(1);
    const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(path).toBe("/admin/flights/bulk-upload/status/3f2a9c1e-0000-4000-8000-000000000000/errors.csv");
    expect((init.headers as Record<string, string>).Authorization).toBe(`Bearer ${token}`);
    expect(await created[0]!.text()).toContain("source equals destination");
    expect(clicked).toHaveLength(1);
    expect(clicked[0]!.href).toBe("blob:errors");
    expect(clicked[0]!.download).toBe("import-3f2a9c1e-errors.csv");
    expect(document.querySelector("a[download]")).toBeNull();
  });

  it("reports the API's refusal instead of saving an error page as CSV", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response('{"detail":"Not Found"}', { status: 404 })));
    URL.createObjectURL = vi.fn(() => "blob:never");
    await expect(downloadErrorsCsv("missing")).rejects.toBeInstanceOf(ApiError);
    expect(URL.createObjectURL).not.toHaveBeenCalled();
  });
});
