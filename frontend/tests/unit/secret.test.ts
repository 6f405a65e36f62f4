import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { describe, expect, it, vi } from "vitest";

import { resolveSecret } from "@/lib/server/secret";

describe("resolveSecret", () => {
  it("uses BETTER_AUTH_SECRET when given", () => {
    expect(resolveSecret({ secret: " s3cret ", environment: "production", dataDir: "/nonexistent" })).toBe("s3cret");
  });

  it("refuses to start without a secret outside development", () => {
    expect(() => resolveSecret({ secret: undefined, environment: "production", dataDir: "/nonexistent" })).toThrow(/BETTER_AUTH_SECRET is not set/);
  });

  it("generates a development secret once and keeps it private and stable", () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), "secret-")), ".data");
    const first = resolveSecret({ secret: "", environment: "development", dataDir });
    const second = resolveSecret({ secret: undefined, environment: "development", dataDir });
    expect(first).toHaveLength(44);
    expect(second).toBe(first);
    const file = path.join(dataDir, "auth-secret");
    expect(readFileSync(file, "utf8").trim()).toBe(first);
    expect(statSync(file).mode & 0o077).toBe(0);
  });
});
