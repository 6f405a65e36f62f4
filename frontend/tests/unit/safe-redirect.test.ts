import { describe, expect, it } from "vitest";

import { safeNext } from "@/lib/safe-redirect";

const APP = "http://127.0.0.1:3000";

/** Where a browser on the app would land after following `safeNext(next)`. */
const landing = (next: string | null) => new URL(safeNext(next, APP), APP);

describe("safeNext", () => {
  it("follows paths on this site, query and fragment kept", () => {
    expect(safeNext("/chatkit", APP)).toBe("/chatkit");
    expect(safeNext("/?q=milk#top", APP)).toBe("/?q=milk#top");
    expect(safeNext(`${APP}/chatkit`, APP)).toBe("/chatkit");
    expect(safeNext("chatkit", APP)).toBe("/chatkit");
  });

  it("sends nothing, garbage or another origin to the home page", () => {
    for (const next of [null, undefined, "", "https://evil.example", "//evil.example", "http://127.0.0.1:3001/x", "javascript:alert(1)", "http://[::1"]) {
      expect(safeNext(next, APP), String(next)).toBe("/");
    }
  });

  // Browsers strip tabs and newlines from URLs and read `\` as `/`: each of these lands on
  // evil.example when followed as it is.
  it.each([
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    "/\r\n/evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t\\evil.example",
    " //evil.example",
    "/.//evil.example",
    "/..//evil.example",
    "https:evil.example",
    "https:/\\evil.example",
  ])("keeps %j on this site", (next) => {
    expect(landing(next).origin).toBe(APP);
  });

  it("treats percent-encoded separators as path text, never as a host", () => {
    for (const next of ["/%09/evil.example", "/%2F%2Fevil.example", "/%5Cevil.example", "%2F%2Fevil.example", "/%252F%252Fevil.example"]) {
      const url = landing(next);
      expect(url.origin, next).toBe(APP);
      expect(url.pathname.startsWith("//"), next).toBe(false);
    }
  });

  it("decoded once more, as the query string gives it, is still refused", () => {
    // `/sign-in?next=/%09/evil.example` reaches safeNext as "/\t/evil.example".
    const next = new URLSearchParams("next=/%09/evil.example").get("next");
    expect(next).toBe("/\t/evil.example");
    expect(safeNext(next, APP)).toBe("/");
  });
});
