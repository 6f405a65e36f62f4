import { describe, expect, it } from "vitest";

import { authErrorMessage, validateCredentials } from "@/lib/auth-errors";

describe("authErrorMessage", () => {
  it("puts each Better Auth error next to the field it concerns", () => {
    expect(authErrorMessage({ code: "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL" })).toMatchObject({ field: "email" });
    expect(authErrorMessage({ code: "PASSWORD_TOO_SHORT" })).toMatchObject({ field: "password" });
    expect(authErrorMessage({ code: "INVALID_EMAIL_OR_PASSWORD" })).toEqual({ field: "form", message: "Wrong email or password." });
  });

  it("explains an untrusted origin", () => {
    expect(authErrorMessage({ status: 403, message: "Invalid origin" }).message).toMatch(/BETTER_AUTH_TRUSTED_ORIGINS/);
  });
});

describe("validateCredentials", () => {
  it("catches a bad email or a short password before any request", () => {
    expect(validateCredentials({ email: "nope", password: "whatever1" }, "sign-in")).toMatchObject({ field: "email" });
    expect(validateCredentials({ email: "a@b.co", password: "short", name: "A" }, "sign-up")).toMatchObject({ field: "password" });
    expect(validateCredentials({ email: "a@b.co", password: "short" }, "sign-in")).toBeNull();
    expect(validateCredentials({ email: "a@b.co", password: "long enough", name: " " }, "sign-up")).toMatchObject({ field: "name" });
  });
});
