/** Runs once when the server starts: create Better Auth's tables before the first request. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { ensureAuthSchema } = await import("./lib/server/auth");
  try {
    await ensureAuthSchema();
  } catch (error) {
    // Not fatal: /api/ready reports it and the next request retries.
    console.error("[auth] schema migration at start-up failed:", error);
  }
}
