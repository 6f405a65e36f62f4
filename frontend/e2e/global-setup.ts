import type { FullConfig } from "@playwright/test";

import { startStack } from "./stack";

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
  return stack.stop;
}
