import { expect, test } from "@playwright/test";

import { chat, shot, signIn, signOut, signUp, taskItem, uniqueEmail } from "./helpers";

test("at the printed URL: sign up, add a task by chat, see it in the list, sign out and back in", async ({ page, baseURL }) => {
  const user = { name: "Deployed User", email: uniqueEmail("deployed"), password: "correct horse battery" };
  const printed = new URL(baseURL!).origin;

  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await signUp(page, user);

  await chat(page, "add water the plants tomorrow");
  await expect(page.getByTestId("tool-card").filter({ hasText: /Added '.*water the plants.*'/i })).toBeVisible();
  await expect(taskItem(page, /water the plants/i)).toBeVisible();
  await shot(page, "deployed-01-task-added-by-chat");

  await signOut(page);
  await signIn(page, user.email, user.password);
  await expect(page.getByTestId("user-email")).toHaveText(user.email);
  await expect(taskItem(page, /water the plants/i)).toBeVisible();
  // Every redirect kept the user at the address they opened (no jump to a configured public URL).
  expect(new URL(page.url()).origin).toBe(printed);
});
