import { test as base, expect } from "@playwright/test";

import { chat, signUp, taskItem, uniqueEmail } from "./helpers";
import { BACKEND, freePort, start, startStack, stopProcess, waitFor, type Stack } from "./stack";

/**
 * The path a user with an API key takes: a stack of its own whose backend has OPENAI_API_KEY and
 * OPENAI_BASE_URL set, pointing at a local OpenAI-compatible server (the backend's
 * tests/support/fake_openai.py) that stands in for a real model API, which this machine cannot
 * reach. It answers the model's requests in order with this script (Chat Completions, streamed).
 */
const SCRIPT = [
  { tool: "add_task", arguments: { title: "Buy oat milk", priority: "high" } },
  { text: "Added 'Buy oat milk' to your list with high priority." },
  { status: 401, error: "Incorrect API key provided" },
];

const test = base.extend<object, { modelStack: Stack }>({
  modelStack: [
    async ({}, use) => {
      const port = await freePort();
      const script = JSON.stringify(SCRIPT);
      const model = start("fake-openai", "uv", ["run", "python", "-m", "tests.support.fake_openai", "--port", String(port), "--script", script], BACKEND, process.env);
      try {
        await waitFor(`http://127.0.0.1:${port}/v1/models`, model, "fake-openai");
        const stack = await startStack(process.env.TEST_DATABASE_URL!, {
          name: "model",
          backendEnv: { OPENAI_API_KEY: "sk-e2e-fake", OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_MODEL: "gpt-fake-1" },
        });
        await use(stack);
        await stack.stop();
      } finally {
        await stopProcess(model);
      }
    },
    { scope: "worker" },
  ],
  baseURL: async ({ modelStack }, use) => use(modelStack.baseUrl),
});

test("with an API key: the model's streamed reply shows, its tool call adds the task, a refused key is said in the chat", async ({ page }) => {
  test.setTimeout(240_000);
  await signUp(page, { name: "Kay", email: uniqueEmail("kay"), password: "correct horse battery" });

  const stream = page.waitForResponse((r) => r.url().endsWith("/api/backend/chat/stream"));
  await chat(page, "add buy oat milk, high priority");
  // This stack's first turn loads the agent and its MCP client: on a busy machine, more than the
  // usual wait (the suite's own stack does one before the tests; here that would use the script).
  await expect(page.getByTestId("tool-card").filter({ hasText: "Added 'Buy oat milk'" })).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId("chat-message-assistant").last()).toContainText("Added 'Buy oat milk' to your list with high priority.");
  const task = taskItem(page, "Buy oat milk");
  await expect(task).toBeVisible();
  await expect(task.getByTestId("task-priority")).toHaveText("high");
  await expect(page.getByTestId("offline-banner")).toHaveCount(0);

  // The reply reached the browser through the proxy as the model streamed it: word by word.
  const parts = (await (await stream).text())
    .split("\n")
    .filter((line) => line.startsWith("data: {"))
    .map((line) => JSON.parse(line.slice("data: ".length)) as { type: string; delta?: string });
  const deltas = parts.filter((p) => p.type === "text-delta").map((p) => p.delta);
  expect(deltas.length).toBeGreaterThan(5);
  expect(deltas.join("")).toBe("Added 'Buy oat milk' to your list with high priority.");

  // The provider refuses the key on the next turn: the chat says so in a sentence, and the
  // stored conversation keeps it after a reload.
  await chat(page, "also add eggs");
  const refused = "The model provider refused this app's API key (HTTP 401)";
  await expect(page.getByTestId("chat-error")).toContainText(refused);
  await page.reload();
  await page.getByTestId("conversation-item").first().click();
  await expect(page.getByTestId("chat-message-user")).toContainText(["add buy oat milk, high priority", "also add eggs"]);
  await expect(page.getByTestId("chat-message-assistant").last()).toContainText(refused);
  await expect(page.getByTestId("task-item")).toHaveCount(1);
});
