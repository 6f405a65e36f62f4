/**
 * Starts the app the way it runs in production, for one test run: a fresh database, the
 * backend's Alembic migrations, uvicorn, and the standalone Next.js server (built first when
 * the sources are newer than the build). Everything listens on free loopback ports.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Client } from "pg";

export const FRONTEND = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BACKEND = path.resolve(FRONTEND, "..", "backend");
export const LOGS = path.join(FRONTEND, "test-results", "e2e-logs");
const BUILD_INPUTS = ["app", "components", "lib", "proxy.ts", "instrumentation.ts", "next.config.ts", "package-lock.json", "postcss.config.mjs"];

export interface Stack {
  baseUrl: string;
  backendUrl: string;
  stop: () => Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function newestMtime(entry: string): number {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(entry).map((child) => newestMtime(path.join(entry, child))));
}

/** `next build` unless `.next/standalone` is newer than every source file. */
function ensureBuild(): void {
  const server = path.join(FRONTEND, ".next", "standalone", "server.js");
  const sources = Math.max(...BUILD_INPUTS.map((p) => path.join(FRONTEND, p)).filter(existsSync).map(newestMtime));
  if (!existsSync(server) || statSync(server).mtimeMs < sources) {
    console.log("[e2e] building the frontend (next build)…");
    const result = spawnSync("npx", ["next", "build"], {
      cwd: FRONTEND,
      stdio: "inherit",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    if (result.status !== 0) throw new Error(`next build failed (exit ${result.status})`);
  }
  // The standalone server serves static assets only from its own folder (as in the image).
  cpSync(path.join(FRONTEND, ".next", "static"), path.join(FRONTEND, ".next", "standalone", ".next", "static"), { recursive: true });
}

export function start(name: string, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  const log = createWriteStream(path.join(LOGS, `${name}.log`));
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

export async function waitFor(url: string, child: ChildProcess, name: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see test-results/e2e-logs/${name}.log`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} not ready at ${url} after ${timeoutMs / 1000}s; see test-results/e2e-logs/${name}.log`);
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid, "SIGTERM"); // the whole process group: uv's and npx's children too
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Signs a new user up through Better Auth's API at `origin` (as the page would, with its Origin)
 * and returns the session cookie, for requests made outside a browser.
 */
export async function signUpByApi(origin: string, name: string): Promise<string> {
  const email = `${name.toLowerCase()}-${randomBytes(4).toString("hex")}@example.com`;
  const response = await fetch(`${origin}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify({ name, email, password: "correct horse battery" }),
  });
  if (!response.ok) throw new Error(`sign-up at ${origin} failed: ${response.status} ${await response.text()}`);
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0])
    .join("; ");
}

/** A fresh, uniquely named database on the server of `adminUrl` (a superuser URL). */
export async function createDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `todo_e2e_${randomBytes(4).toString("hex")}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const cleanup = new Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/**
 * The built standalone server with this environment (BETTER_AUTH_SECRET random unless given),
 * started as the image starts it.
 */
export function startFrontend(name: string, port: number, env: NodeJS.ProcessEnv): ChildProcess {
  const server = path.join(FRONTEND, ".next", "standalone", "server.js");
  const clientAddress = path.join(FRONTEND, "scripts", "client-address.mjs");
  return start(name, process.execPath, ["--import", clientAddress, server], FRONTEND, {
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64"),
    ...env,
    NODE_ENV: "production",
    PORT: String(port),
    HOSTNAME: "127.0.0.1",
  });
}

export interface StackOptions {
  /** Added to the backend's environment: a model's OPENAI_* settings, for example (without
   * them the offline assistant answers). */
  backendEnv?: Record<string, string>;
  /** Its processes' names and log files (`NAME-backend.log`), for a stack beside the suite's. */
  name?: string;
}

export async function startStack(adminUrl: string, { backendEnv = {}, name }: StackOptions = {}): Promise<Stack> {
  const named = (role: string) => (name ? `${name}-${role}` : role);
  mkdirSync(LOGS, { recursive: true });
  ensureBuild();

  const { url: databaseUrl, drop } = await createDatabase(adminUrl);

  const [backendPort, frontendPort] = [await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${frontendPort}`;
  const backendUrl = `http://127.0.0.1:${backendPort}`;
  const { OPENAI_API_KEY: _key, OPENAI_BASE_URL: _base, ...inherited } = process.env;
  const shared = { ...inherited, DATABASE_URL: databaseUrl, BETTER_AUTH_URL: baseUrl, ENVIRONMENT: "development" };

  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(stopProcess));
    await drop();
  };

  try {
    const env = { ...shared, CORS_ORIGINS: baseUrl, LOG_LEVEL: "warning", PYTHONUNBUFFERED: "1", ...backendEnv };
    // Migrations, then uvicorn: the script compose and `cargo xtask dev` start the backend with.
    const backend = start(named("backend"), "uv", ["run", "./serve.sh", "--host", "127.0.0.1", "--port", String(backendPort)], BACKEND, env);
    children.push(backend);

    // A ChatKit domain key turns the ChatKit view on (its script still can't load offline).
    const frontend = startFrontend(named("frontend"), frontendPort, { ...shared, BACKEND_URL: backendUrl, CHATKIT_DOMAIN_KEY: "domain_pk_e2e" });
    children.push(frontend);

    await waitFor(`${backendUrl}/health`, backend, named("backend"));
    await waitFor(`${baseUrl}/api/ready`, frontend, named("frontend"));
    await waitFor(`${backendUrl}/ready`, backend, named("backend"));
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, backendUrl, stop };
}
