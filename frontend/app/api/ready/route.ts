import { ensureAuthSchema, getAuthDatabase } from "@/lib/server/auth";
import { ping } from "@/lib/server/database";

/** Readiness: the auth database answers and Better Auth's tables exist. */
export async function GET(): Promise<Response> {
  try {
    await ensureAuthSchema();
    await ping(getAuthDatabase());
    return Response.json({ status: "ready" }, { headers: { "cache-control": "no-store" } });
  } catch (error) {
    // The reason goes to the log; the probe's answer names no host or credential.
    console.error("[ready] auth database not ready:", error);
    return Response.json(
      { status: "unavailable", detail: "The auth database is unreachable or not migrated yet." },
      { status: 503, headers: { "cache-control": "no-store" } },
    );
  }
}
