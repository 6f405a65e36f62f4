import { expect, type Page } from "@playwright/test";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "test-results", "screenshots");

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export function uniqueEmail(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}@example.com`;
}

export async function signUp(page: Page, user: { name: string; email: string; password: string }): Promise<void> {
  await submitAuthForm(page, "/sign-up", { "auth-name": user.name, "auth-email": user.email, "auth-password": user.password });
  await expect(page.getByTestId("user-email")).toHaveText(user.email);
}

/** Signs in through the form at `path` (say, `/sign-in?next=…`). */
export async function signIn(page: Page, email: string, password: string, path = "/sign-in"): Promise<void> {
  await submitAuthForm(page, path, { "auth-email": email, "auth-password": password });
}

/**
 * Fills and submits a sign-in/sign-up form until it is not refused by the rate limit. Better
 * Auth allows 3 attempts per 10 s from one address, and this suite signs many users in from
 * 127.0.0.1 within seconds; a refused attempt waits the window out and starts over, as the
 * form's message tells a user to. Any other outcome (signed in, or a form error) is the caller's.
 */
export async function submitAuthForm(page: Page, path: string, fields: Record<string, string>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await page.goto(path);
    for (const [testId, value] of Object.entries(fields)) await page.getByTestId(testId).fill(value);
    await page.getByTestId("auth-submit").click();
    const formError = page.getByTestId("auth-error");
    const anyError = page.locator('[data-testid^="auth-error"]');
    await expect(page.getByTestId("user-email").or(anyError).first()).toBeAttached();
    const limited = (await formError.count()) > 0 && /too many attempts/i.test(await formError.innerText());
    if (!limited || attempt === 3) return;
    await page.waitForTimeout(10_000);
  }
}

export async function signOut(page: Page): Promise<void> {
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/sign-in$/);
}

export async function chat(page: Page, text: string): Promise<void> {
  await page.getByTestId("chat-input").fill(text);
  await page.getByTestId("chat-input").press("Enter");
}

export function taskItem(page: Page, title: RegExp | string) {
  return page.getByTestId("task-item").filter({ has: page.getByTestId("task-title").filter({ hasText: title }) });
}
