import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

// The session and token come from Better Auth; here a fixed user, so the proxy itself is tested
// against a real HTTP server standing in for the backend.
const session = vi.hoisted(() => ({ current: { user: { id: "user-1" } } as { user: { id: string } } | null }));
vi.mock("@/lib/server/auth", () => ({
  getSession: async () => session.current,
  getAuth: () => ({ api: { getToken: async () => ({ token: "signed.jwt.token" }) } }),
}));

const { backendPath, MAX_BODY_BYTES, mayRetry, proxyToBackend } = await import("@/lib/server/backend-proxy");

interface Seen {
  method: string;
  timezone?: string | string[];
  url: string;
  authorization: string | undefined;
  cookie: string | undefined;
  body: string;
}

let server: Server;
let seen: Seen[] = [];
let releaseStream: () => void = () => undefined;

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => resolve(body));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const timezone = req.headers["x-timezone"];
    seen.push({ method: req.method!, ...(timezone ? { timezone } : {}), url: req.url!, authorization: req.headers.authorization, cookie: req.headers.cookie, body: await read(req) });
    if (req.url!.endsWith("/chat/stream")) {
      res.writeHead(200, { "content-type": "text/event-stream", "x-conversation-id": "42", "x-vercel-ai-ui-message-stream": "v1", "set-cookie": "leak=1" });
      res.write('data: {"type":"start"}\n\n');
      // The rest only after the test has read the first event: proves it streams, not buffers.
      releaseStream = () => res.end('data: {"type":"finish"}\n\n');
      return;
    }
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  vi.stubEnv("BACKEND_URL", `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  session.current = { user: { id: "user-1" } };
});

const toUser = (rest: string) => (userId: string) => `/api/${userId}/${rest}`;

describe("proxyToBackend", () => {
  it("calls the user's backend path with the bearer token, query and body, and no cookies", async () => {
    const request = new Request("http://app.test/api/backend/tasks?status=pending&q=milk", {
      method: "POST",
      headers: { "content-type": "application/json", cookie: "better-auth.session_token=secret" },
      body: JSON.stringify({ title: "Buy milk" }),
    });
    const response = await proxyToBackend(request, toUser("tasks"));
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ ok: true });
    expect(seen).toEqual([
      { method: "POST", url: "/api/user-1/tasks?status=pending&q=milk", authorization: "Bearer signed.jwt.token", cookie: undefined, body: '{"title":"Buy milk"}' },
    ]);
  });

  it("streams server-sent events through as they arrive, with the chat headers", async () => {
    const response = await proxyToBackend(new Request("http://app.test/api/backend/chat/stream", { method: "POST", body: "{}" }), toUser("chat/stream"));
    expect(response.headers.get("x-conversation-id")).toBe("42");
    expect(response.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(response.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(response.headers.get("set-cookie")).toBeNull();
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toContain('"start"');
    releaseStream();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    expect(rest).toContain('"finish"');
  });

  it("forwards the browser's timezone on chat requests", async () => {
    const request = new Request("http://app.test/api/backend/chat", { method: "POST", headers: { "x-timezone": "Asia/Tokyo" }, body: "{}" });
    expect((await proxyToBackend(request, toUser("chat"))).status).toBe(201);
    expect(seen[0]!.timezone).toBe("Asia/Tokyo");
  });

  it("refuses a body declared larger than the cap with 413 JSON, without calling the backend", async () => {
    const request = new Request("http://app.test/api/backend/tasks", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(MAX_BODY_BYTES + 1) },
      body: new ReadableStream({ start: (c) => c.close() }),
      duplex: "half",
    } as RequestInit);
    const response = await proxyToBackend(request, toUser("tasks"));
    expect(response.status).toBe(413);
    expect((await response.json()).detail).toMatch(/too large/i);
    expect(seen).toEqual([]);
  });

  it("cuts off an unbounded streamed body at the cap with 413, reading no more than the cap", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const request = new Request("http://app.test/api/backend/tasks", { method: "POST", body: endless, duplex: "half" } as RequestInit);
    const response = await proxyToBackend(request, toUser("tasks"));
    expect(response.status).toBe(413);
    expect((await response.json()).detail).toMatch(/too large/i);
    // Streamed, not buffered: what was read stops within a few chunks of the cap.
    expect(pulled).toBeLessThan(MAX_BODY_BYTES + 4 * chunk.byteLength);
  });

  it("passes a body just under the cap through whole", async () => {
    const body = JSON.stringify({ title: "x".repeat(MAX_BODY_BYTES - 20) });
    const response = await proxyToBackend(new Request("http://app.test/api/backend/tasks", { method: "POST", body }), toUser("tasks"));
    expect(response.status).toBe(201);
    expect(seen[0]!.body.length).toBe(body.length);
  });

  it("answers 401 without a session and never calls the backend", async () => {
    session.current = null;
    const response = await proxyToBackend(new Request("http://app.test/api/backend/tasks"), toUser("tasks"));
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: "Not signed in." });
    expect(seen).toEqual([]);
  });

  it("refuses a path that escapes the user's scope", async () => {
    const response = await proxyToBackend(new Request("http://app.test/api/backend/x"), () => null);
    expect(response.status).toBe(400);
    expect(seen).toEqual([]);
  });

  it("answers 502 with a readable detail when the backend is down", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    vi.stubEnv("BACKEND_URL", "http://127.0.0.1:1");
    try {
      const response = await proxyToBackend(new Request("http://app.test/api/backend/tasks?q=my+secret+plans"), toUser("tasks"));
      expect(response.status).toBe(502);
      expect((await response.json()).detail).toMatch(/unreachable/);
      // The failure is logged by path, without the user's search text.
      const line = logged.mock.calls.map((args) => String(args[0])).join("\n");
      expect(line).toContain("/api/user-1/tasks");
      expect(line).not.toContain("secret");
    } finally {
      vi.stubEnv("BACKEND_URL", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
  });
});

describe("backendPath", () => {
  it("joins and encodes the proxied path segments", () => {
    expect(backendPath(["tasks", "12", "complete"])).toBe("tasks/12/complete");
    expect(backendPath(["conversations", "a b"])).toBe("conversations/a%20b");
  });

  it("refuses segments that could reach another user's resources", () => {
    expect(backendPath(["..", "..", "other-user", "tasks"])).toBeNull();
    expect(backendPath(["tasks", "."])).toBeNull();
    expect(backendPath(["a/b"])).toBeNull();
    expect(backendPath(["tasks", ""])).toBeNull();
  });
});

describe("a keep-alive connection the backend closes as a request goes out on it", () => {
  // A real server that answers the first request on each connection and, like a server whose
  // idle timeout fires just then, drops the connection when another request arrives on it:
  // with a FIN ("other side closed") or a reset. A new one per test, on a new port, so that
  // fetch's pool for it starts empty.
  let dropping: Server;
  let close: "end" | "reset" = "end";
  let answered: Seen[] = [];
  let dropped: Seen[] = [];
  let status = 200;

  beforeEach(async () => {
    close = "end";
    status = 200;
    answered = [];
    dropped = [];
    const served = new WeakSet<Socket>();
    dropping = createServer(async (req, res) => {
      const request = { method: req.method!, url: req.url!, authorization: req.headers.authorization, cookie: undefined, body: await read(req) };
      if (served.has(req.socket)) {
        dropped.push(request);
        if (close === "reset") req.socket.resetAndDestroy();
        else req.socket.destroy();
        return;
      }
      served.add(req.socket);
      answered.push(request);
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: status < 400 }));
    });
    await new Promise<void>((resolve) => dropping.listen(0, "127.0.0.1", resolve));
    vi.stubEnv("BACKEND_URL", `http://127.0.0.1:${(dropping.address() as AddressInfo).port}`);
  });

  afterEach(async () => {
    dropping.closeAllConnections();
    await new Promise((resolve) => dropping.close(resolve));
    vi.stubEnv("BACKEND_URL", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  /** One answered request, so that the next one goes out on the connection it leaves idle. */
  async function pooledConnection(): Promise<void> {
    const response = await proxyToBackend(new Request("http://app.test/api/backend/tasks"), toUser("tasks"));
    expect(response.status).toBe(200);
    await response.text();
    // The connection returns to fetch's pool once the response has ended, a turn later.
    await new Promise((resolve) => setImmediate(resolve));
    answered = [];
    dropped = [];
  }

  for (const how of ["end", "reset"] as const) {
    it(`repeats a GET on a new connection (${how}): the caller gets the list, not a 502`, async () => {
      await pooledConnection();
      close = how;
      const response = await proxyToBackend(new Request("http://app.test/api/backend/tasks?status=pending"), toUser("tasks"));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
      expect(dropped.map((r) => `${r.method} ${r.url}`)).toEqual(["GET /api/user-1/tasks?status=pending"]);
      expect(answered.map((r) => `${r.method} ${r.url}`)).toEqual(["GET /api/user-1/tasks?status=pending"]);
    });
  }

  it("repeats a PUT with its whole body", async () => {
    await pooledConnection();
    close = "reset";
    const body = JSON.stringify({ title: "Renamed", priority: "high" });
    const request = new Request("http://app.test/api/backend/tasks/3", { method: "PUT", headers: { "content-type": "application/json" }, body });
    expect((await proxyToBackend(request, toUser("tasks/3"))).status).toBe(200);
    expect(dropped.map((r) => r.body)).toEqual([body]);
    expect(answered).toEqual([{ method: "PUT", url: "/api/user-1/tasks/3", authorization: "Bearer signed.jwt.token", cookie: undefined, body }]);
  });

  for (const [method, rest] of [["POST", "tasks"], ["PATCH", "tasks/3/complete"]] as const) {
    it(`never sends a ${method} twice: the caller gets the 502`, async () => {
      const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
      try {
        await pooledConnection();
        const request = new Request(`http://app.test/api/backend/${rest}`, { method, body: JSON.stringify({ title: "Buy milk" }) });
        const response = await proxyToBackend(request, toUser(rest));
        expect(response.status).toBe(502);
        expect((await response.json()).detail).toMatch(/unreachable/);
        expect(dropped.map((r) => r.method)).toEqual([method]);
        expect(answered).toEqual([]);
      } finally {
        logged.mockRestore();
      }
    });
  }

  it("passes the backend's answer through unrepeated, error statuses included", async () => {
    status = 503;
    const response = await proxyToBackend(new Request("http://app.test/api/backend/tasks"), toUser("tasks"));
    expect(response.status).toBe(503);
    expect(answered).toHaveLength(1);
    expect(dropped).toEqual([]);
  });
});

describe("mayRetry", () => {
  const failed = (cause: object) => Object.assign(new TypeError("fetch failed"), { cause });
  const closedReused = failed({ code: "UND_ERR_SOCKET", message: "other side closed", socket: { bytesRead: 124, bytesWritten: 340 } });
  const closedFresh = failed({ code: "UND_ERR_SOCKET", message: "other side closed", socket: { bytesRead: 0, bytesWritten: 170 } });
  const reset = failed({ code: "ECONNRESET", syscall: "read" });

  it("repeats reads, PUT and DELETE when a reused connection was closed or reset unanswered", () => {
    for (const method of ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]) {
      expect(mayRetry(method, closedReused)).toBe(true);
      expect(mayRetry(method, reset)).toBe(true);
      expect(mayRetry(method, failed({ code: "EPIPE" }))).toBe(true);
    }
  });

  it("never repeats a POST or a PATCH", () => {
    for (const method of ["POST", "PATCH"]) {
      expect(mayRetry(method, closedReused)).toBe(false);
      expect(mayRetry(method, reset)).toBe(false);
    }
  });

  it("does not repeat what sending again would meet again", () => {
    expect(mayRetry("GET", closedFresh)).toBe(false);
    expect(mayRetry("GET", failed({ code: "ECONNREFUSED" }))).toBe(false);
    expect(mayRetry("GET", failed({ code: "UND_ERR_CONNECT_TIMEOUT" }))).toBe(false);
    expect(mayRetry("GET", failed({ code: "UND_ERR_SOCKET" }))).toBe(false);
    expect(mayRetry("GET", new DOMException("aborted", "AbortError"))).toBe(false);
    expect(mayRetry("GET", new TypeError("fetch failed"))).toBe(false);
    expect(mayRetry("GET", null)).toBe(false);
  });
});
