/**
 * Runs once when the server starts. Next compiles this file for the edge runtime too; the
 * Node-only start-up (which may exit the process) lives in its own module, imported only
 * behind the NEXT_RUNTIME check that Next resolves at build time, so no edge bundle holds it.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { startServer } = await import("./lib/server/start");
    await startServer();
  }
}
