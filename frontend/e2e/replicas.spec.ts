import { randomBytes } from "node:crypto";

import { expect, test } from "@playwright/test";
import { Client } from "pg";

import { createDatabase, freePort, startFrontend, stopProcess, waitFor } from "./stack";

/**
 * Several replicas starting at once on an empty database: Better Auth's tables are created
 * exactly once (advisory lock), every replica becomes ready, and they share users and keys.
 */
test("replicas starting together migrate safely and share sessions", async ({ request }) => {
  const { url, drop } = await createDatabase(process.env.TEST_DATABASE_URL!);
  const secret = randomBytes(32).toString("base64");
  const ports = [await freePort(), await freePort(), await freePort()];
  const replicas = ports.map((port, i) =>
    startFrontend(`replica-${i}`, port, { ...process.env, DATABASE_URL: url, BETTER_AUTH_SECRET: secret, BETTER_AUTH_URL: `http://127.0.0.1:${ports[0]}` }),
  );
  try {
    await Promise.all(replicas.map((child, i) => waitFor(`http://127.0.0.1:${ports[i]}/api/ready`, child, `replica-${i}`)));

    const db = new Client({ connectionString: url });
    await db.connect();
    const tables = await db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    await db.end();
    expect(tables.rows.map((r) => r.tablename)).toEqual(["account", "jwks", "session", "user", "verification"]);

    // Sign up through one replica; the session cookie works on another.
    const origin = `http://127.0.0.1:${ports[0]}`;
    const signUp = await request.post(`${origin}/api/auth/sign-up/email`, {
      headers: { origin },
      data: { name: "Replica", email: `replica-${Date.now()}@example.com`, password: "correct horse battery" },
    });
    expect(signUp.status()).toBe(200);
    const cookie = signUp.headers()["set-cookie"]!.split("\n").map((c) => c.split(";")[0]).join("; ");
    const token = await request.get(`http://127.0.0.1:${ports[2]}/api/auth/token`, { headers: { cookie } });
    expect(token.status()).toBe(200);
    expect((await token.json()).token).toMatch(/^ey/);
    const jwks = await (await request.get(`http://127.0.0.1:${ports[1]}/api/auth/jwks`)).json();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
  } finally {
    await Promise.all(replicas.map(stopProcess));
    await drop();
  }
});

test("health needs no database; readiness answers 503 while the database is unreachable", async ({ request }) => {
  const [port, deadDbPort] = [await freePort(), await freePort()];
  const child = startFrontend("no-database", port, { ...process.env, DATABASE_URL: `postgresql://nobody@127.0.0.1:${deadDbPort}/none` });
  try {
    await waitFor(`http://127.0.0.1:${port}/api/health`, child, "no-database");
    const ready = await request.get(`http://127.0.0.1:${port}/api/ready`);
    expect(ready.status()).toBe(503);
    expect(await ready.json()).toEqual({ status: "unavailable", detail: "The auth database is unreachable or not migrated yet." });
    // Pages still answer (sign-in), rather than hanging on the database.
    const page = await request.get(`http://127.0.0.1:${port}/`, { maxRedirects: 0 });
    expect(page.status()).toBe(307);
    expect(page.headers()["location"]).toMatch(/\/sign-in$/);
  } finally {
    await stopProcess(child);
  }
});
