import { expect, test } from "@playwright/test";

import { signUp, uniqueEmail } from "./helpers";

const PASSWORD = "correct horse battery";

test("a second page load hydrates without a mismatch", async ({ page }) => {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  await signUp(page, { name: "Kim", email: uniqueEmail("kim"), password: PASSWORD });
  await page.reload();
  await expect(page.getByTestId("chat-input")).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("chat-input")).toBeVisible();
  await page.getByTestId("chat-input").fill("hydrated");
  expect(problems.filter((text) => /hydrat|#418|#423|#425|did not match/i.test(text))).toEqual([]);
});
