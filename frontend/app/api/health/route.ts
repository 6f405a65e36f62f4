/** Liveness: the server answers. Touches no database, so a slow DB never restarts the pod. */
export function GET(): Response {
  return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
}
