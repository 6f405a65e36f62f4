import { ensureAuthSchema, getAuthDatabase } from "@/lib/server/auth";
import { ping } from "@/lib/server/database";

/** Readiness: the auth database answers and Better Auth's tables exist. */
export async function GET(): Promise<Response> {
  try {
    await ensureAuthSchema();
    await ping(getAuthDatabase());
    return Response.json({ status: "ready" }, { headers: { "cache-control": "no-store" } });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return Response.json({ status: "unavailable", detail }, { status: 503, headers: { "cache-control": "no-store" } });
  }
}
