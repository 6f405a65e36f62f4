import { expect, test } from "@playwright/test";

import { signIn, signOut, signUp, uniqueEmail } from "./helpers";

const PASSWORD = "correct horse battery";

/** Targets a browser reads as another host once it strips tabs and newlines or turns `\` into `/`. */
const EVIL_NEXT = ["/%09/evil.example", "/%0A/evil.example", "/%0D/evil.example", "/%5C/evil.example", "/.//evil.example", "%5C%5Cevil.example"];

test("the next parameter never leads off the app: sign-in form and signed-in redirect", async ({ page, baseURL }) => {
  const user = { name: "Gwen", email: uniqueEmail("gwen"), password: PASSWORD };
  await signUp(page, user);
  // Signed in, opening sign-in with a hostile next (proxy.ts redirects at once).
  for (const next of EVIL_NEXT) {
    await page.goto(`/sign-in?next=${next}`);
    await expect(page.getByTestId("user-email")).toHaveText(user.email);
    expect(new URL(page.url()).origin, next).toBe(new URL(baseURL!).origin);
  }
  await signOut(page);

  // Signing in through the form with a hostile next lands in the app too.
  for (const next of ["/%09/evil.example", "/%5C/evil.example"]) {
    await signIn(page, user.email, user.password, `/sign-in?next=${next}`);
    await expect(page.getByTestId("user-email")).toHaveText(user.email);
    expect(new URL(page.url()).origin, next).toBe(new URL(baseURL!).origin);
    await signOut(page);
  }
  // A real path on the app is followed.
  await signIn(page, user.email, user.password, "/sign-in?next=/chatkit");
  await expect(page).toHaveURL(/\/chatkit$/);
});

test("with JavaScript off, the auth forms put no password in a URL", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false });
  const page = await context.newPage();
  const requested: string[] = [];
  page.on("request", (request) => requested.push(request.url()));
  try {
    for (const path of ["/sign-up", "/sign-in"]) {
      await page.goto(path);
      await expect(page.getByTestId("auth-needs-js")).toBeVisible();
      if (path === "/sign-up") await page.getByTestId("auth-name").fill("Nojs");
      await page.getByTestId("auth-email").fill("nojs@example.com");
      await page.getByTestId("auth-password").fill("correct horse 42");
      // Enter in the password field, and a click on the button, as a user would try.
      await page.getByTestId("auth-password").press("Enter");
      await page.getByTestId("auth-submit").click({ force: true });
      await page.waitForLoadState();
      expect(page.url()).not.toContain("password");
    }
    expect(requested.filter((url) => /password|correct/.test(url))).toEqual([]);
  } finally {
    await context.close();
  }
});

test("the app works at an address nobody configured; a cross-site request is refused", async ({ browser, baseURL, request }) => {
  // The stack's BETTER_AUTH_URL is http://127.0.0.1:PORT; localhost:PORT is another origin,
  // as a Minikube NodePort or a port-forward is, and it is in no trusted-origins list.
  const other = new URL(baseURL!);
  other.hostname = "localhost";
  const context = await browser.newContext({ baseURL: other.origin });
  const page = await context.newPage();
  try {
    const user = { name: "Hal", email: uniqueEmail("hal"), password: PASSWORD };
    await signUp(page, user);
    await signOut(page);
    await signIn(page, user.email, user.password);
    await expect(page.getByTestId("user-email")).toHaveText(user.email);
    expect(new URL(page.url()).origin).toBe(other.origin);
  } finally {
    await context.close();
  }

  // The same request from another site's page is refused by the origin check.
  const forged = await request.post("/api/auth/sign-up/email", {
    headers: { origin: "http://evil.example", "sec-fetch-site": "cross-site", "sec-fetch-mode": "cors" },
    data: { name: "Mallory", email: uniqueEmail("mallory"), password: PASSWORD },
  });
  expect(forged.status()).toBe(403);
  // A port next to the app's is another origin too.
  const neighbour = new URL(baseURL!);
  neighbour.port = String(Number(neighbour.port) + 1);
  const sideways = await request.post("/api/auth/sign-in/email", {
    headers: { origin: neighbour.origin },
    data: { email: "nobody@example.com", password: PASSWORD },
  });
  expect(sideways.status()).toBe(403);
});

test("the proxy refuses an oversized body with 413 JSON", async ({ page }) => {
  await signUp(page, { name: "Ivy", email: uniqueEmail("ivy"), password: PASSWORD });
  const response = await page.request.post("/api/backend/tasks", {
    headers: { "content-type": "application/json" },
    data: JSON.stringify({ title: "x", description: "y".repeat(2 * 1024 * 1024) }),
  });
  expect(response.status()).toBe(413);
  expect((await response.json()).detail).toMatch(/too large/i);
});
