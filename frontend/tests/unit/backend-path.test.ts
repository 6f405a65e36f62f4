import { describe, expect, it } from "vitest";

import { backendPath } from "@/lib/server/backend-proxy";

describe("backendPath", () => {
  it("joins and encodes the proxied path segments", () => {
    expect(backendPath(["tasks", "12", "complete"])).toBe("tasks/12/complete");
    expect(backendPath(["conversations", "a b"])).toBe("conversations/a%20b");
  });

  it("refuses segments that could reach another user's resources", () => {
    expect(backendPath(["..", "..", "other-user", "tasks"])).toBeNull();
    expect(backendPath(["tasks", "."])).toBeNull();
    expect(backendPath(["a/b"])).toBeNull();
    expect(backendPath(["tasks", ""])).toBeNull();
  });
});
