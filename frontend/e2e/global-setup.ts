import { existsSync, readdirSync } from "node:fs";
import path from "node:path";

import type { FullConfig } from "@playwright/test";

import { SCREENSHOTS } from "./helpers";
import { FRONTEND, signUpByApi, startStack } from "./stack";

/**
 * One chat turn as a throwaway user: the backend's first turn loads the agent and connects its
 * MCP client, which on a busy machine outlasts a test's wait for a reply.
 */
async function firstChatTurn(baseUrl: string): Promise<void> {
  const cookie = await signUpByApi(baseUrl, "Warm-up");
  const response = await fetch(`${baseUrl}/api/backend/chat`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ message: "what's left?" }),
  });
  if (!response.ok) throw new Error(`the first chat turn failed: ${response.status} ${await response.text()}`);
}

/** Provisions the stack once for the run; the returned function tears it down. */
export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    throw new Error(
      "TEST_DATABASE_URL is not set: the e2e tests need a PostgreSQL superuser URL " +
        "(postgresql://USER@127.0.0.1:PORT/postgres). `cargo xtask test` provides one.",
    );
  }
  const stack = await startStack(adminUrl);
  process.env.E2E_BASE_URL = stack.baseUrl;
  process.env.E2E_BACKEND_URL = stack.backendUrl;
  console.log(`[e2e] frontend ${stack.baseUrl}, backend ${stack.backendUrl}`);
  try {
    await firstChatTurn(stack.baseUrl);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return async () => {
    await stack.stop();
    const count = existsSync(SCREENSHOTS) ? readdirSync(SCREENSHOTS).filter((f) => f.endsWith(".png")).length : 0;
    console.log(`[e2e] ${count} screenshots in ${path.relative(FRONTEND, SCREENSHOTS)}/, process logs in test-results/e2e-logs/`);
  };
}
