import "server-only";

import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * BETTER_AUTH_SECRET signs sessions and encrypts the JWT signing keys. Outside development it
 * must be given; in development a random one is generated once and kept in `.data/auth-secret`
 * so sessions survive restarts and nobody has to invent a secret to try the app.
 */
export function resolveSecret(opts: {
  secret: string | undefined;
  environment: string;
  dataDir: string;
}): string {
  const given = opts.secret?.trim();
  if (given) return given;
  if (opts.environment !== "development") {
    throw new Error(
      `BETTER_AUTH_SECRET is not set (ENVIRONMENT=${opts.environment}). ` +
        "Generate one with `openssl rand -base64 32` and pass it in the environment.",
    );
  }
  const file = path.join(opts.dataDir, "auth-secret");
  try {
    const stored = readFileSync(file, "utf8").trim();
    if (stored) return stored;
  } catch {
    // First start: fall through and create it.
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const generated = randomBytes(32).toString("base64");
  writeFileSync(file, generated + "\n", { mode: 0o600 });
  console.warn(`[auth] BETTER_AUTH_SECRET unset: using a development secret stored in ${file}`);
  return generated;
}
