import { expect, test, type APIRequestContext } from "@playwright/test";

import { createDatabase, freePort, startFrontend, stopProcess, waitFor } from "./stack";

/** Better Auth's limit on /sign-in and /sign-up: 3 attempts per 10 s from one client address. */
const ALLOWED_ATTEMPTS = 3;

/** A wrong-password sign-in at `origin`, claiming to come from `forwardedFor`; its status. */
async function wrongSignIn(request: APIRequestContext, origin: string, forwardedFor: string): Promise<number> {
  const response = await request.post(`${origin}/api/auth/sign-in/email`, {
    headers: { origin, "x-forwarded-for": forwardedFor },
    data: { email: "nobody@example.com", password: "not the password" },
  });
  return response.status();
}

test("a client cannot dodge the sign-in limit by sending its own X-Forwarded-For", async ({ request, baseURL }) => {
  // Each attempt claims another address; the server counts the connection's instead.
  const statuses: number[] = [];
  for (let attempt = 0; attempt <= ALLOWED_ATTEMPTS; attempt++) {
    statuses.push(await wrongSignIn(request, baseURL!, `203.0.113.${attempt + 1}`));
  }
  expect(statuses.every((status) => status === 401 || status === 429), `statuses: ${statuses}`).toBe(true);
  expect(statuses.at(-1), `statuses: ${statuses}`).toBe(429);
});

test("behind a trusted proxy, each client forwarded by it has a limit of its own", async ({ request }) => {
  // This test is the proxy: it connects from 127.0.0.1 and names the client it forwards.
  const { url, drop } = await createDatabase(process.env.TEST_DATABASE_URL!);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const frontend = startFrontend("behind-proxy", port, { ...process.env, DATABASE_URL: url, BETTER_AUTH_URL: origin, TRUSTED_PROXIES: "127.0.0.1" });
  try {
    await waitFor(`${origin}/api/ready`, frontend, "behind-proxy");
    const guesser = "198.51.100.7";
    const statuses: number[] = [];
    for (let attempt = 0; attempt <= ALLOWED_ATTEMPTS; attempt++) statuses.push(await wrongSignIn(request, origin, guesser));
    expect(statuses).toEqual([...Array(ALLOWED_ATTEMPTS).fill(401), 429]);

    // Another user behind the same proxy is not held back by the first one's attempts.
    expect(await wrongSignIn(request, origin, "192.0.2.44")).toBe(401);
    // A client that prepends an address of its choice is still counted by the proxy's entry.
    expect(await wrongSignIn(request, origin, `192.0.2.45, ${guesser}`)).toBe(429);
  } finally {
    await stopProcess(frontend);
    await drop();
  }
});
