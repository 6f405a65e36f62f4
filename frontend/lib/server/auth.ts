import "server-only";

import { betterAuth, type BetterAuthOptions } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { nextCookies } from "better-auth/next-js";
import { jwt } from "better-auth/plugins";

import { readConfig, sameOrigin } from "./config";
import { betterAuthDatabase, dataDir, openDatabase, withMigrationLock, type AuthDatabase } from "./database";
import { resolveSecret } from "./secret";

export const MIN_PASSWORD_LENGTH = 8;

function buildOptions(db: AuthDatabase) {
  const config = readConfig();
  return {
    appName: "Todo Chatbot",
    baseURL: config.authUrl,
    secret: resolveSecret({
      secret: process.env.BETTER_AUTH_SECRET,
      environment: config.environment,
      dataDir: dataDir(),
    }),
    // The configured origins, plus the one the request was sent to when its Origin names that
    // very host: the app works at whatever address it is opened at (a NodePort, a port-forward,
    // 127.0.0.1 or localhost) while a cross-site request still fails the check.
    trustedOrigins: (request?: Request) => [...config.trustedOrigins, sameOrigin(request)],
    database: betterAuthDatabase(db),
    emailAndPassword: { enabled: true, minPasswordLength: MIN_PASSWORD_LENGTH, autoSignIn: true },
    session: { cookieCache: { enabled: true, maxAge: 60 } },
    // Secure cookies only when the app is really served over https, else login over http breaks.
    // The sign-in and sign-up limits count attempts per client address, taken from the
    // X-Forwarded-For that scripts/client-address.mjs rewrites from the connection.
    advanced: {
      useSecureCookies: config.authUrl.startsWith("https://"),
      ipAddress: { trustedProxies: config.trustedProxies },
    },
    telemetry: { enabled: false },
    plugins: [
      // EdDSA keys served at /api/auth/jwks; the backend verifies tokens against them.
      jwt({ jwt: { issuer: config.jwtIssuer, audience: config.jwtAudience } }),
      nextCookies(),
    ],
  } satisfies BetterAuthOptions;
}

function createAuth() {
  const db = openDatabase();
  const options = buildOptions(db);
  return { db, options, auth: betterAuth(options), schemaReady: null as Promise<void> | null };
}

type AuthState = ReturnType<typeof createAuth>;
const globalForAuth = globalThis as typeof globalThis & { __todoAuth?: AuthState };

/** The process-wide Better Auth instance, created on first use (never during `next build`). */
function state(): AuthState {
  globalForAuth.__todoAuth ??= createAuth();
  return globalForAuth.__todoAuth;
}

export function getAuth() {
  return state().auth;
}

export function getAuthDatabase(): AuthDatabase {
  return state().db;
}

/**
 * Creates or extends Better Auth's tables. Idempotent: a lock-free check first, then the
 * migration under an advisory lock (re-planned inside it, since another replica may have
 * finished meanwhile). A failed attempt is forgotten so the next request retries.
 */
export function ensureAuthSchema(): Promise<void> {
  const s = state();
  s.schemaReady ??= migrate(s).catch((error: unknown) => {
    s.schemaReady = null;
    throw error;
  });
  return s.schemaReady;
}

async function migrate({ db, options }: AuthState): Promise<void> {
  if (!hasWork(await getMigrations(options))) return;
  await withMigrationLock(db, async () => {
    const plan = await getMigrations(options);
    if (!hasWork(plan)) return;
    await plan.runMigrations();
    console.info(
      `[auth] schema migrated: created ${plan.toBeCreated.map((t) => t.table).join(", ") || "none"}; ` +
        `extended ${plan.toBeAdded.map((t) => t.table).join(", ") || "none"}`,
    );
  });
}

function hasWork(plan: Awaited<ReturnType<typeof getMigrations>>): boolean {
  return plan.toBeCreated.length + plan.toBeAdded.length + plan.toBeAddedIndexes.length > 0;
}

export type Session = NonNullable<Awaited<ReturnType<ReturnType<typeof getAuth>["api"]["getSession"]>>>;

/** The signed-in user's session for these request headers, or null. */
export async function getSession(headers: Headers): Promise<Session | null> {
  await ensureAuthSchema();
  return getAuth().api.getSession({ headers });
}
