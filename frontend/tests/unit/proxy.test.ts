import { NextRequest } from "next/server";
import { beforeEach, describe, expect, it, vi } from "vitest";

// A signed-in (or signed-out) visitor; the redirect logic itself runs for real.
const session = vi.hoisted(() => ({ current: null as { user: { id: string } } | null }));
vi.mock("@/lib/server/auth", () => ({ getSession: async () => session.current }));

const { proxy } = await import("@/proxy");

const APP = "http://192.168.49.2:30300";
const open = (path: string) => proxy(new NextRequest(new URL(path, APP)));

beforeEach(() => {
  session.current = null;
});

describe("proxy", () => {
  it("sends a visitor without a session to sign-in, remembering the page", async () => {
    const response = await open("/chatkit?x=1");
    expect(response.status).toBe(307);
    expect(response.headers.get("location")).toBe(`${APP}/sign-in?next=%2Fchatkit%3Fx%3D1`);
  });

  it("sends a signed-in user on from sign-in to the remembered page", async () => {
    session.current = { user: { id: "u1" } };
    expect((await open("/sign-in?next=/chatkit")).headers.get("location")).toBe(`${APP}/chatkit`);
  });

  it.each([
    "/%09/evil.example",
    "/%0A/evil.example",
    "/%0D/evil.example",
    "/%5C/evil.example",
    "%5C%5Cevil.example",
    "/.//evil.example",
    "https://evil.example",
    "//evil.example",
  ])("never redirects a signed-in user off the app with next=%s", async (next) => {
    session.current = { user: { id: "u1" } };
    const response = await open(`/sign-in?next=${next}`);
    expect(response.status).toBe(307);
    expect(new URL(response.headers.get("location")!).origin).toBe(APP);
    // And a browser following that Location stays here too.
    expect(new URL(response.headers.get("location")!, APP).host).toBe("192.168.49.2:30300");
  });
});
