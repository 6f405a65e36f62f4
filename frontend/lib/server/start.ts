import "server-only";

import { ensureAuthSchema, getAuth } from "./auth";

/** Server start-up (Node.js runtime): check the configuration, then create Better Auth's tables. */
export async function startServer(): Promise<void> {
  try {
    // Builds the auth instance from the environment: a configuration error (say, no
    // BETTER_AUTH_SECRET in production) must stop the server, not leave it "healthy".
    getAuth();
  } catch (error) {
    console.error(`[config] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  try {
    await ensureAuthSchema();
  } catch (error) {
    // Not fatal: the database may come up later; /api/ready reports it and the next request retries.
    console.error("[auth] schema migration at start-up failed:", error);
  }
}
