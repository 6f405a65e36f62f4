import "server-only";

/**
 * Run-time configuration of the server side, read from the environment on every call so one
 * built image serves every environment (nothing here is frozen by `next build`).
 */
export interface ServerConfig {
  /** Public URL of this app (Better Auth's base URL); also the default JWT issuer and audience. */
  authUrl: string;
  /** Origins allowed to call the auth endpoints besides the app's own address (see `sameOrigin`):
   * BETTER_AUTH_URL plus BETTER_AUTH_TRUSTED_ORIGINS. */
  trustedOrigins: string[];
  jwtIssuer: string;
  jwtAudience: string;
  /** Where the FastAPI backend listens, as seen from this server (never from the browser). */
  backendUrl: string;
  /** PostgreSQL URL, or null for the embedded file database under `.data/`. */
  databaseUrl: string | null;
  /** Connections the PostgreSQL pool may open (DATABASE_POOL_SIZE); the chart sets it within its connection budget. */
  databasePoolSize: number;
  /** development | staging | production (ENVIRONMENT); only development may run without a secret. */
  environment: string;
  /** Reverse proxies whose X-Forwarded-For entries are believed (TRUSTED_PROXIES: addresses or
   * CIDR ranges, comma-separated); empty = the client is the connection's peer. */
  trustedProxies: string[];
  /** Domain key that switches the optional ChatKit UI on. */
  chatkitDomainKey: string | null;
}

const DEFAULT_AUTH_URL = "http://localhost:3000";
const DEFAULT_BACKEND_URL = "http://localhost:8000";
const DEFAULT_POOL_SIZE = 10;

export function readConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const authUrl = trimSlash(nonEmpty(env.BETTER_AUTH_URL) ?? DEFAULT_AUTH_URL);
  return {
    authUrl,
    trustedOrigins: trustedOrigins(authUrl, env.BETTER_AUTH_TRUSTED_ORIGINS),
    jwtIssuer: nonEmpty(env.JWT_ISSUER) ?? authUrl,
    jwtAudience: nonEmpty(env.JWT_AUDIENCE) ?? authUrl,
    backendUrl: trimSlash(nonEmpty(env.BACKEND_URL) ?? DEFAULT_BACKEND_URL),
    databaseUrl: postgresUrl(env.DATABASE_URL),
    databasePoolSize: poolSize(env.DATABASE_POOL_SIZE),
    environment: nonEmpty(env.ENVIRONMENT) ?? "development",
    trustedProxies: commaList(env.TRUSTED_PROXIES),
    chatkitDomainKey: nonEmpty(env.CHATKIT_DOMAIN_KEY) ?? null,
  };
}

/** BETTER_AUTH_URL's origin plus each comma-separated entry of BETTER_AUTH_TRUSTED_ORIGINS. */
export function trustedOrigins(authUrl: string, extra: string | undefined): string[] {
  const origins = [new URL(authUrl).origin];
  for (const entry of commaList(extra).map(trimSlash)) {
    if (entry && !origins.includes(entry)) origins.push(entry);
  }
  return origins;
}

/**
 * The request's own origin when its Origin header names the host the request was sent to
 * (`Host`): a same-origin request, at whatever address the app was opened at. Null when the
 * Origin is another site's, absent, or not http(s). A browser cannot forge either header, so
 * this admits exactly the pages served from this host. A reverse proxy that rewrites `Host`
 * makes every request look cross-site; BETTER_AUTH_TRUSTED_ORIGINS then names the public origin.
 */
export function sameOrigin(request: Request | undefined): string | null {
  const origin = request?.headers.get("origin");
  const host = request?.headers.get("host");
  if (!origin || !host) return null;
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    return url.host === new URL(`${url.protocol}//${host}`).host ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * The backend shares DATABASE_URL and may spell it with a SQLAlchemy driver
 * (`postgresql+asyncpg://`); node-postgres wants the plain scheme.
 */
export function postgresUrl(raw: string | undefined): string | null {
  const url = nonEmpty(raw);
  if (!url) return null;
  const normalized = url.replace(/^postgres(ql)?\+[a-z0-9_]+:\/\//i, "postgresql://");
  if (!/^postgres(ql)?:\/\//i.test(normalized)) {
    throw new Error(
      `DATABASE_URL must be a PostgreSQL URL (postgresql://user:pass@host:5432/db); got scheme "${normalized.split(":")[0]}". ` +
        "Unset it to use the embedded database under .data/.",
    );
  }
  return normalized;
}

/**
 * DATABASE_POOL_SIZE: a whole number of connections, 10 when unset. At least 2: the schema
 * migration holds its lock on one connection while it runs on another, so a pool of one would
 * wait for itself on the first sign-in.
 */
export function poolSize(raw: string | undefined): number {
  const value = nonEmpty(raw);
  if (value === undefined) return DEFAULT_POOL_SIZE;
  if (!/^[0-9]+$/.test(value) || Number(value) < 2) {
    throw new Error(
      `DATABASE_POOL_SIZE must be a whole number of connections, at least 2 (the schema migration holds one while it runs on another); got "${value}".`,
    );
  }
  return Number(value);
}

function commaList(value: string | undefined): string[] {
  return (value ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
