import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect, test, type Browser } from "@playwright/test";

import { FRONTEND, freePort, LOGS, signUpByApi, start, stopProcess, waitFor } from "./stack";
import { signUp, uniqueEmail } from "./helpers";

/**
 * Opens once each page the test uses, the app's signed in by API, so that `next dev` has
 * compiled its server and browser code (the first request of a route waits for that, minutes
 * on a busy machine) before the test's own waits start.
 */
async function compileRoutes(browser: Browser, origin: string): Promise<void> {
  const compiled = { timeout: 300_000 };
  const context = await browser.newContext({ baseURL: origin });
  const page = await context.newPage();
  for (const route of ["/sign-up", "/sign-in"]) {
    await page.goto(route, compiled);
    await expect(page.getByTestId("auth-submit")).toBeEnabled(compiled);
  }
  const cookie = await signUpByApi(origin, "Warm");
  await context.addCookies(cookie.split("; ").map((pair) => ({ name: pair.split("=")[0]!, value: pair.slice(pair.indexOf("=") + 1), url: origin })));
  await page.goto("/", compiled);
  await expect(page.getByTestId("chat-input")).toBeVisible(compiled);
  await context.close();
}

/**
 * `next dev` as `cargo xtask dev` runs it (embedded database, development secret, telemetry
 * off), opened at 127.0.0.1 although it announces localhost: the page must hydrate there (its
 * dev scripts are not refused as cross-origin), /favicon.ico must exist, and what the server
 * prints while a user signs up and reloads must hold no warning or error to read past.
 */
test("the dev server: serves every loopback address, and its log has nothing to read past", async ({ browser }) => {
  test.setTimeout(600_000);
  const port = await freePort();
  const data = mkdtempSync(path.join(tmpdir(), "todo-dev-"));
  const { OPENAI_API_KEY: _key, DATABASE_URL: _db, ...inherited } = process.env;
  const child = start("next-dev", "npx", ["next", "dev", "--port", String(port)], FRONTEND, {
    ...inherited,
    ENVIRONMENT: "development",
    NODE_ENV: "development",
    DATA_DIR: data,
    BETTER_AUTH_URL: `http://localhost:${port}`,
    BETTER_AUTH_SECRET: "development-only-secret-for-the-dev-server-test",
    BACKEND_URL: process.env.E2E_BACKEND_URL,
    NEXT_TELEMETRY_DISABLED: "1",
  });
  try {
    await waitFor(`http://127.0.0.1:${port}/api/health`, child, "next-dev", 300_000);
    await compileRoutes(browser, `http://127.0.0.1:${port}`);
    const context = await browser.newContext({ baseURL: `http://127.0.0.1:${port}` });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    // The submit button is enabled only once the page has hydrated: signing up proves it did.
    await signUp(page, { name: "Dev", email: uniqueEmail("dev"), password: "correct horse battery" });
    await page.reload();
    await expect(page.getByTestId("chat-input")).toBeVisible();
    const favicon = await page.request.get("/favicon.ico");
    expect(favicon.status()).toBe(200);
    expect(favicon.headers()["content-type"]).toMatch(/image/);
    // The other loopback addresses a user may type hydrate too (the button waits for that).
    for (const host of ["localhost", "[::1]"]) {
      const other = await context.newPage();
      await other.goto(`http://${host}:${port}/sign-in`);
      await expect(other.getByTestId("auth-submit")).toBeEnabled();
      await other.close();
    }
    // In development React reports a hydration mismatch loudly; there must be none.
    expect(problems.filter((text) => /hydrat|did not match/i.test(text))).toEqual([]);
    await context.close();
  } finally {
    await stopProcess(child);
    rmSync(data, { recursive: true, force: true });
  }
  const log = readFileSync(path.join(LOGS, "next-dev.log"), "utf8");
  const noise = log.split("\n").filter((line) => /⚠|⨯|warn|error|deprecat|Edge Runtime|password/i.test(line));
  expect(noise, log).toEqual([]);
});
