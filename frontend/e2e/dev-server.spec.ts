import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect, test, type Browser } from "@playwright/test";

import { BACKEND, FRONTEND, freePort, LOGS, signUpByApi, start, stopProcess, waitFor } from "./stack";
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
  await expect(page.getByTestId("task-empty")).toBeVisible(compiled);
  await context.close();
}

/**
 * The app as `cargo xtask dev` runs it: the backend on an embedded SQLite file trusting this
 * dev server's tokens, and `next dev` (embedded database, development secret, telemetry off),
 * opened at 127.0.0.1 although it announces localhost. The page must hydrate there (its dev
 * scripts are not refused as cross-origin) and at the other loopback addresses, /favicon.ico
 * must exist, and what either server prints while a user signs up, loads the list and reloads
 * must hold no warning or error to read past.
 */
test("the dev server: serves every loopback address, and its log has nothing to read past", async ({ browser }) => {
  test.setTimeout(600_000);
  const [port, backendPort] = [await freePort(), await freePort()];
  const data = mkdtempSync(path.join(tmpdir(), "todo-dev-"));
  const { OPENAI_API_KEY: _key, OPENAI_BASE_URL: _base, DATABASE_URL: _db, ...inherited } = process.env;
  const shared = { ...inherited, ENVIRONMENT: "development", BETTER_AUTH_URL: `http://localhost:${port}` };
  const backendEnv = { ...shared, DATABASE_URL: `sqlite:///${data}/todo.db`, PYTHONUNBUFFERED: "1" };
  // Migrations, then uvicorn, as `cargo xtask dev` starts it.
  const backend = start("dev-backend", "uv", ["run", "./serve.sh", "--host", "127.0.0.1", "--port", String(backendPort)], BACKEND, backendEnv);
  const child = start("next-dev", "npx", ["next", "dev", "--port", String(port)], FRONTEND, {
    ...shared,
    NODE_ENV: "development",
    DATA_DIR: data,
    BETTER_AUTH_SECRET: "development-only-secret-for-the-dev-server-test",
    BACKEND_URL: `http://127.0.0.1:${backendPort}`,
    NEXT_TELEMETRY_DISABLED: "1",
  });
  try {
    await waitFor(`http://127.0.0.1:${backendPort}/health`, backend, "dev-backend");
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
    // The backend trusts the dev server's tokens: the list loads, as in `cargo xtask dev`.
    await expect(page.getByTestId("task-empty")).toBeVisible();
    await page.reload();
    await expect(page.getByTestId("chat-input")).toBeVisible();
    await expect(page.getByTestId("task-empty")).toBeVisible();
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
    await Promise.all([stopProcess(child), stopProcess(backend)]);
    rmSync(data, { recursive: true, force: true });
  }
  const log = readFileSync(path.join(LOGS, "next-dev.log"), "utf8").replace(/\x1b\[[0-9;]*m/g, "");
  // Turbopack times a write to .next/dev at start and warns when the disk seems slow: that says
  // how busy this machine is (two cores shared by every test), nothing about the app.
  const noise = log
    .split("\n")
    .filter((line) => /⚠|⨯|warn|error|deprecat|Edge Runtime|password| [45]\d\d in /i.test(line))
    .filter((line) => !/^⚠ Slow filesystem detected\./.test(line));
  expect(noise, log).toEqual([]);
  const backendLog = readFileSync(path.join(LOGS, "dev-backend.log"), "utf8");
  const backendNoise = backendLog.split("\n").filter((line) => /"level": "(WARNING|ERROR|CRITICAL)"|Traceback|password/.test(line));
  expect(backendNoise, backendLog).toEqual([]);
});
