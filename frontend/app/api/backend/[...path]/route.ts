import { backendPath, proxyToBackend } from "@/lib/server/backend-proxy";

type Context = { params: Promise<{ path: string[] }> };

/** `/api/backend/<rest>` → `{BACKEND_URL}/api/{userId}/<rest>` as the signed-in user. */
async function handle(request: Request, { params }: Context): Promise<Response> {
  const rest = backendPath((await params).path);
  return proxyToBackend(request, (userId) =>
    rest === null ? null : `/api/${encodeURIComponent(userId)}/${rest}`,
  );
}

export { handle as GET, handle as POST, handle as PUT, handle as PATCH, handle as DELETE };
