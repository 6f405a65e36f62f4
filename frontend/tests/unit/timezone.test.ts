import { afterEach, describe, expect, it, vi } from "vitest";

import { browserTimezone, fetchWithTimezone, timezoneHeaders } from "@/lib/timezone";

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("timezone headers", () => {
  it("name the browser's IANA zone", () => {
    expect(browserTimezone()).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(timezoneHeaders("America/Los_Angeles")).toEqual({ "x-timezone": "America/Los_Angeles" });
    expect(timezoneHeaders(null)).toEqual({});
  });

  it("ride along on ChatKit's requests, beside the headers it sets", async () => {
    const seen: Headers[] = [];
    vi.stubGlobal("fetch", async (_input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Headers(init?.headers));
      return new Response("{}");
    });
    await fetchWithTimezone("/api/backend/chatkit", { method: "POST", headers: { "content-type": "application/json" } });
    expect(seen[0]!.get("x-timezone")).toBe(browserTimezone());
    expect(seen[0]!.get("content-type")).toBe("application/json");
  });
});
