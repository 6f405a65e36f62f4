import { expect, test } from "@playwright/test";

import { signIn, signOut, signUp, uniqueEmail } from "./helpers";

const PASSWORD = "correct horse battery";

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
