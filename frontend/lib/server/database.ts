import "server-only";

import { mkdirSync } from "node:fs";
import path from "node:path";

import { createClient, type Client } from "@libsql/client";
import { LibsqlDialect } from "@libsql/kysely-libsql";
import { Pool } from "pg";

import { readConfig } from "./config";

/**
 * The database Better Auth keeps users, sessions and signing keys in: the PostgreSQL the
 * backend uses when DATABASE_URL is set, else an embedded SQLite file (libSQL, whose native
 * binary ships as an npm package) under `.data/`.
 */
export type AuthDatabase =
  | { kind: "postgres"; pool: Pool }
  | { kind: "sqlite"; client: Client; file: string };

/** Key of the session-level advisory lock that serializes schema migrations across replicas. */
const MIGRATION_LOCK_KEY = 7_246_001;

/** Embedded database and development secret: DATA_DIR, else `.data/` in the working directory. */
export function dataDir(): string {
  return process.env.DATA_DIR?.trim() || path.join(process.cwd(), ".data");
}

export function openDatabase(): AuthDatabase {
  const { databaseUrl, databasePoolSize } = readConfig();
  if (databaseUrl) {
    return { kind: "postgres", pool: new Pool({ connectionString: databaseUrl, max: databasePoolSize }) };
  }
  mkdirSync(dataDir(), { recursive: true });
  const file = path.join(dataDir(), "auth.db");
  return { kind: "sqlite", client: createClient({ url: `file:${file}` }), file };
}

/** What `betterAuth({ database })` takes for this database. */
export function betterAuthDatabase(db: AuthDatabase) {
  return db.kind === "postgres"
    ? db.pool
    : { dialect: new LibsqlDialect({ client: db.client }), type: "sqlite" as const };
}

export async function ping(db: AuthDatabase): Promise<void> {
  if (db.kind === "postgres") await db.pool.query("SELECT 1");
  else await db.client.execute("SELECT 1");
}

/**
 * Runs `fn` while holding a PostgreSQL advisory lock on one dedicated connection, so replicas
 * starting together migrate one after the other. The embedded database has one process.
 */
export async function withMigrationLock<T>(db: AuthDatabase, fn: () => Promise<T>): Promise<T> {
  if (db.kind !== "postgres") return fn();
  const conn = await db.pool.connect();
  try {
    await conn.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      return await fn();
    } finally {
      await conn.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  } finally {
    conn.release();
  }
}
