import { expect, test } from "@playwright/test";

import { chat, shot, signUp, taskItem, uniqueEmail } from "./helpers";

/** Every main screen at desktop and phone width, saved under test-results/screenshots/. */
for (const [width, viewport] of [
  ["desktop", { width: 1280, height: 860 }],
  ["phone", { width: 390, height: 844 }],
] as const) {
  test(`screenshots of every main screen at ${width} width`, async ({ page }) => {
    await page.setViewportSize(viewport);
    await page.goto("/sign-in");
    await expect(page.getByTestId("auth-submit")).toBeEnabled();
    await shot(page, `${width}-sign-in`);
    await page.goto("/sign-up");
    await expect(page.getByTestId("auth-submit")).toBeEnabled();
    await shot(page, `${width}-sign-up`);

    await signUp(page, { name: "Screens", email: uniqueEmail(`screens-${width}`), password: "correct horse battery" });
    await expect(page.getByTestId("task-empty")).toBeVisible();
    await shot(page, `${width}-tasks-empty`);
    await page.getByTestId("task-title-input").first().fill("Buy milk");
    await page.getByTestId("task-submit").first().click();
    await expect(taskItem(page, "Buy milk")).not.toHaveAttribute("data-task-id", /^-/);

    if (width === "phone") await page.getByTestId("tab-chat").click();
    await chat(page, "add pay rent tomorrow high priority");
    await expect(page.getByTestId("tool-card").filter({ hasText: /Added '.*pay rent.*'/i })).toBeVisible();
    await chat(page, "what's left?");
    await expect(page.getByTestId("tool-card").filter({ hasText: /Found 2 tasks/ })).toBeVisible();
    await shot(page, `${width}-chat`);
    if (width === "phone") await page.getByTestId("tab-tasks").click();
    await expect(taskItem(page, /pay rent/i)).toBeVisible();
    await shot(page, `${width}-tasks`);

    await page.getByTestId("task-details-toggle").click();
    await taskItem(page, "Buy milk").getByTestId("task-edit").click();
    await shot(page, `${width}-task-edit`);

    await page.goto("/chatkit");
    await expect(page.getByTestId("chatkit-unavailable")).toBeVisible();
    await shot(page, `${width}-chatkit`);
  });
}
