import { backendPath, proxyToBackend } from "@/lib/server/backend-proxy";

type Context = { params: Promise<{ path?: string[] }> };

/** `/api/chatkit/<rest>` → the backend's self-hosted ChatKit endpoint `{BACKEND_URL}/chatkit/<rest>`. */
async function handle(request: Request, { params }: Context): Promise<Response> {
  const segments = (await params).path ?? [];
  const rest = segments.length ? backendPath(segments) : "";
  return proxyToBackend(request, () => (rest === null ? null : rest ? `/chatkit/${rest}` : "/chatkit"));
}

export { handle as GET, handle as POST };
