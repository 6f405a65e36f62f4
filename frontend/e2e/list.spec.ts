import { expect, test, type Page } from "@playwright/test";

import { chat, signUp, taskItem, uniqueEmail } from "./helpers";

const PASSWORD = "correct horse battery";

async function addTask(page: Page, title: string): Promise<void> {
  await page.getByTestId("task-title-input").first().fill(title);
  await page.getByTestId("task-submit").first().click();
  await expect(taskItem(page, title)).not.toHaveAttribute("data-task-id", /^-/);
}

/** The titles the server has for this user, in the list's default order. */
async function serverTitles(page: Page): Promise<string[]> {
  const response = await page.request.get("/api/backend/tasks");
  return ((await response.json()) as { items: { title: string }[] }).items.map((t) => t.title);
}

test("a task deleted while the chat changes tasks stays deleted, and the list ends as the server has it", async ({ page }) => {
  // The page's clock is the test's, so the undo window is still open when the chat's change
  // lands however long the assistant takes to answer.
  await page.clock.install();
  await signUp(page, { name: "Jo", email: uniqueEmail("jo"), password: PASSWORD });
  await addTask(page, "Walk the dog");
  await addTask(page, "Feed the cat");

  // Time stands still in the page from here (a jump far enough ahead that the page's clock
  // can't have passed it yet; nothing waits on it but a notice's fade).
  await page.clock.pauseAt(await page.evaluate(() => Date.now() + 5_000));
  // Delete in the list: the Undo notice shows while the delete waits…
  await taskItem(page, "Walk the dog").getByTestId("task-delete").click();
  await expect(page.getByTestId("undo-toast")).toBeVisible();
  // …and within that window the chat adds a task, which refetches the list (a 0 ms timer).
  await chat(page, "add zeta");
  await expect(page.getByTestId("tool-card").filter({ hasText: /Added '.*zeta.*'/i })).toBeVisible();
  await page.clock.runFor(10);
  await expect(taskItem(page, /zeta/i)).toBeVisible();
  await expect(page.getByTestId("undo-toast")).toBeVisible();
  await expect(taskItem(page, "Walk the dog")).toHaveCount(0);

  // The window closes, the delete is sent: the list is the server's list, without a reload
  // (the assistant titles the task as a sentence: "Zeta").
  await page.clock.runFor(5_000);
  await page.clock.resume();
  await expect(page.getByTestId("undo-toast")).toBeHidden();
  await expect.poll(() => serverTitles(page)).toEqual(["Zeta", "Feed the cat"]);
  await expect(page.getByTestId("task-title")).toHaveText(["Zeta", "Feed the cat"]);
  await page.reload();
  await expect(page.getByTestId("task-title")).toHaveText(["Zeta", "Feed the cat"]);
});

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

test("the small things: counts follow the filter, long titles wrap, stale errors clear, cards line up, chat lists", async ({ page }) => {
  await signUp(page, { name: "Lee", email: uniqueEmail("lee"), password: PASSWORD });

  // The Tasks and Assistant cards start on the same line.
  const tasksTop = (await page.getByTestId("task-panel").boundingBox())!.y;
  const chatTop = (await page.getByTestId("chat-panel").boundingBox())!.y;
  expect(Math.abs(tasksTop - chatTop)).toBeLessThan(1);

  // An empty title is refused; once the user moves on, the complaint goes.
  await page.getByTestId("task-submit").first().click();
  await expect(page.getByTestId("task-add-form").getByRole("alert")).toHaveText("Give the task a title.");
  await page.getByTestId("task-search").click();
  await expect(page.getByTestId("task-add-form").getByRole("alert")).toHaveCount(0);

  // A long unbroken title wraps inside the notice instead of running out of the card.
  const long = "Supercalifragilistic".repeat(10);
  await addTask(page, long);
  const notice = page.getByTestId("task-notice");
  await expect(notice).toContainText("Added");
  const panel = (await page.getByTestId("task-panel").boundingBox())!;
  const box = (await notice.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(panel.x + panel.width);
  expect(await notice.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);

  // The count says what the filter shows: one open task, one done.
  await addTask(page, "Open one");
  await taskItem(page, long).getByTestId("task-toggle").click();
  await expect(taskItem(page, long)).toHaveAttribute("data-completed", "true");
  await expect(page.getByTestId("task-count")).toHaveText("1 to do · 1 done");
  await page.getByTestId("filter-status").selectOption("completed");
  await expect(page.getByTestId("task-item")).toHaveCount(1);
  await expect(page.getByTestId("task-count")).toHaveText("1 done");
  await page.getByTestId("filter-status").selectOption("pending");
  await expect(page.getByTestId("task-count")).toHaveText("1 to do");
  await page.getByTestId("filter-status").selectOption("all");

  // The assistant's lists are lists, not lines starting with "- ".
  await chat(page, "what's left?");
  const reply = page.getByTestId("chat-message-assistant").last();
  await expect(reply.getByTestId("chat-list").locator("li")).not.toHaveCount(0);
  expect(await reply.innerText()).not.toMatch(/^- /m);
});

test("the list shows each task's number, and chat's numbers and ordinals name what the list shows", async ({ page }) => {
  await signUp(page, { name: "Max", email: uniqueEmail("max"), password: PASSWORD });
  for (const title of ["Alpha", "Beta", "Gamma"]) await addTask(page, title);
  // Newest first, each with the user's own number.
  await expect(page.getByTestId("task-title")).toHaveText(["Gamma", "Beta", "Alpha"]);
  await expect(page.getByTestId("task-number")).toHaveText(["#3", "#2", "#1"]);

  // "#1" in chat is the task the list labels #1.
  await chat(page, "mark #1 as done");
  await expect(taskItem(page, "Alpha")).toHaveAttribute("data-completed", "true");

  // With the list narrowed to Beta, "the first task" is Beta, not the newest open task (Gamma).
  await page.getByTestId("task-search").fill("Beta");
  await expect(page.getByTestId("task-title")).toHaveText(["Beta"]);
  await chat(page, "delete the first task");
  await expect(page.getByTestId("tool-card").filter({ hasText: /Deleted 'Beta'/ })).toBeVisible();
  await page.getByTestId("task-search").fill("");
  await expect(page.getByTestId("task-title")).toHaveText(["Gamma", "Alpha"]);
  await expect.poll(() => serverTitles(page)).toEqual(["Gamma", "Alpha"]);
});
