import { expect, test } from "@playwright/test";

import { chat, signUp, taskItem, uniqueEmail } from "./helpers";

/**
 * The browser's time zone travels with each chat turn: "tomorrow at 9am" is 9:00 in the zone
 * the user's browser is in, whatever zone the server runs in (UTC here, as in a cluster).
 */
for (const timezoneId of ["America/Los_Angeles", "Asia/Tokyo"]) {
  test(`chat dates are the browser's: ${timezoneId}`, async ({ browser, baseURL }) => {
    const context = await browser.newContext({ baseURL, timezoneId });
    const page = await context.newPage();
    try {
      await signUp(page, { name: "Zoe", email: uniqueEmail("zoe"), password: "correct horse battery" });
      await chat(page, "add water the plants tomorrow at 9am");
      const card = page.getByTestId("tool-card").filter({ hasText: /Added '.*water the plants.*'/i });
      await expect(card).toContainText(/due tomorrow 9:00\sAM/);
      await expect(taskItem(page, /water the plants/i).getByTestId("task-due")).toHaveText(/tomorrow 9:00\sAM/);

      // The stored instant is 9:00 on the next calendar day in that zone.
      const { items } = (await (await page.request.get("/api/backend/tasks")).json()) as { items: { due_at: string }[] };
      const inZone = (date: Date) =>
        new Intl.DateTimeFormat("en-CA", { timeZone: timezoneId, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);
      const tomorrow = inZone(new Date(Date.now() + 86_400_000)).slice(0, 10);
      expect(inZone(new Date(items[0]!.due_at))).toBe(`${tomorrow}, 09:00`);
    } finally {
      await context.close();
    }
  });
}
