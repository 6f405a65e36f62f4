import "server-only";

import { getAuth, getSession } from "./auth";
import { readConfig } from "./config";

/** Response headers passed back to the browser; hop-by-hop and encoding headers are not. */
const FORWARDED_RESPONSE_HEADERS = [
  "content-type",
  "cache-control",
  "location",
  "retry-after",
  "x-conversation-id",
  "x-vercel-ai-ui-message-stream",
];
const FORWARDED_REQUEST_HEADERS = ["accept", "content-type", "last-event-id", "x-timezone"];

/**
 * The largest request body passed to the backend, in bytes. The biggest the app sends is a chat
 * turn (4,000 characters and up to 500 visible task numbers, well under 64 KiB); the cap leaves
 * room for ChatKit's requests while keeping a client from streaming an unbounded body through.
 */
export const MAX_BODY_BYTES = 1024 * 1024;
const TOO_LARGE = `Request body too large: at most ${MAX_BODY_BYTES / 1024} KiB.`;

/**
 * The body as a stream that fails once more than `limit` bytes have passed: it is forwarded as
 * it arrives, never held in memory whole, and `exceeded()` tells a failed upload from others.
 */
function capped(body: ReadableStream<Uint8Array>, limit: number): { stream: ReadableStream<Uint8Array>; exceeded: () => boolean } {
  let total = 0;
  let over = false;
  const stream = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.byteLength;
        if (total > limit) {
          over = true;
          controller.error(new Error(TOO_LARGE));
        } else {
          controller.enqueue(chunk);
        }
      },
    }),
  );
  return { stream, exceeded: () => over };
}

/** Joins path segments for the backend URL, refusing any that could climb out of the user's scope. */
export function backendPath(segments: string[]): string | null {
  if (segments.some((s) => s === "" || s === "." || s === ".." || s.includes("/") || s.includes("\\"))) {
    return null;
  }
  return segments.map(encodeURIComponent).join("/");
}

/**
 * Methods the proxy may send twice, going by the backend's routes: GET reads; PUT sets a task's
 * fields to the values sent and DELETE removes a task or a conversation, so a second copy leaves
 * the same state. Never POST (it creates a task or runs a chat turn) nor PATCH (`…/complete`
 * toggles).
 */
const REPEATABLE = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);

/**
 * Whether a failed fetch is sent once more. Node's fetch keeps idle connections to the backend
 * open and reuses them; when the backend closes one in the moment a request goes out on it (its
 * keep-alive timeout, or a restart closing its idle connections) the request fails before the
 * backend has read it: "other side closed" on a socket that has carried an earlier response, or
 * a reset (for which undici does not say which socket). Those are repeated for the methods
 * above, on a new connection. A fresh connection closed unanswered, a refused one, a timeout or
 * a cancelled request is not: sending again would meet the same. Nothing is repeated once the
 * backend has answered — fetch has then resolved, whatever the status.
 */
export function mayRetry(method: string, error: unknown): boolean {
  if (!REPEATABLE.has(method)) return false;
  const cause = (error as { cause?: { code?: unknown; socket?: { bytesRead?: unknown } } } | null)?.cause;
  switch (cause?.code) {
    case "UND_ERR_SOCKET":
      return typeof cause.socket?.bytesRead === "number" && cause.socket.bytesRead > 0;
    case "ECONNRESET":
    case "EPIPE":
      return true;
    default:
      return false;
  }
}

function jsonError(status: number, detail: string): Response {
  return Response.json({ detail }, { status, headers: { "cache-control": "no-store" } });
}

/**
 * Forwards a browser request to the backend as the signed-in user: resolves the session from
 * the cookies, mints the user's Better Auth JWT on the server, and streams the backend's answer
 * back unchanged (SSE included). `target` builds the backend path from the user's id.
 */
export async function proxyToBackend(
  request: Request,
  target: (userId: string) => string | null,
): Promise<Response> {
  const session = await getSession(request.headers);
  if (!session) return jsonError(401, "Not signed in.");
  const { token } = await getAuth().api.getToken({ headers: request.headers });

  const path = target(session.user.id);
  if (path === null) return jsonError(400, "Invalid backend path.");
  const url = `${readConfig().backendUrl}${path}${new URL(request.url).search}`;

  const headers = new Headers({ authorization: `Bearer ${token}` });
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers.get(name);
    if (value) headers.set(name, value);
  }
  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== null;
  // A declared length over the cap is refused before a byte is read; an undeclared one (chunked)
  // is cut off where it passes the cap.
  if (hasBody && Number(request.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) return jsonError(413, TOO_LARGE);
  const body = hasBody ? capped(request.body!, MAX_BODY_BYTES) : null;

  let upstream: Response;
  try {
    // A request that may be sent twice needs its body twice, so it is read first (within the
    // cap; a task's fields are a few hundred bytes); any other body streams through.
    const payload = body && REPEATABLE.has(request.method) ? await new Response(body.stream).arrayBuffer() : body?.stream;
    const send = () =>
      fetch(url, {
        method: request.method,
        headers,
        body: payload,
        // Required by Node's fetch to stream a request body.
        ...(hasBody ? { duplex: "half" } : {}),
        signal: request.signal,
        cache: "no-store",
        redirect: "manual",
      } as RequestInit);
    upstream = await send().catch((error: unknown) => {
      if (request.signal.aborted || !mayRetry(request.method, error)) throw error;
      return send();
    });
  } catch (error) {
    if (body?.exceeded()) return jsonError(413, TOO_LARGE);
    if (request.signal.aborted) return jsonError(499, "Request cancelled.");
    // The path only: the query may carry the user's search text (the backend's log omits it too).
    console.error(`[proxy] ${request.method} ${readConfig().backendUrl}${path} failed:`, error);
    return jsonError(502, "The task service is unreachable. Try again in a moment.");
  }

  const responseHeaders = new Headers({ "cache-control": "no-store" });
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) responseHeaders.set(name, value);
  }
  if (upstream.headers.get("content-type")?.startsWith("text/event-stream")) {
    // Events must pass as they come: no compression (it buffers) and no buffering ingress.
    responseHeaders.set("cache-control", "no-cache, no-transform");
    responseHeaders.set("x-accel-buffering", "no");
  }
  return new Response(upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: responseHeaders,
  });
}
