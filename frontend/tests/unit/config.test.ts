import { describe, expect, it } from "vitest";

import { poolSize, postgresUrl, readConfig, sameOrigin, trustedOrigins } from "@/lib/server/config";

describe("readConfig", () => {
  it("defaults to localhost and derives issuer and audience from BETTER_AUTH_URL", () => {
    const config = readConfig({ BETTER_AUTH_URL: "http://192.168.49.2:30080/" });
    expect(config.authUrl).toBe("http://192.168.49.2:30080");
    expect(config.jwtIssuer).toBe("http://192.168.49.2:30080");
    expect(config.jwtAudience).toBe("http://192.168.49.2:30080");
    expect(config.backendUrl).toBe("http://localhost:8000");
    expect(config.databaseUrl).toBeNull();
    expect(config.chatkitDomainKey).toBeNull();
    expect(config.trustedProxies).toEqual([]);
  });

  it("reads TRUSTED_PROXIES as a comma-separated list of addresses and ranges", () => {
    expect(readConfig({ TRUSTED_PROXIES: " 10.0.0.0/8, ,fd00::/8,192.0.2.7" }).trustedProxies).toEqual(["10.0.0.0/8", "fd00::/8", "192.0.2.7"]);
  });

  it("lets JWT_ISSUER and JWT_AUDIENCE override the base URL (in-cluster verification)", () => {
    const config = readConfig({
      BETTER_AUTH_URL: "http://localhost:3000",
      JWT_ISSUER: "http://todo-chatbot-frontend:3000",
      JWT_AUDIENCE: "todo-api",
      BACKEND_URL: "http://todo-chatbot-backend:8000/",
    });
    expect(config.jwtIssuer).toBe("http://todo-chatbot-frontend:3000");
    expect(config.jwtAudience).toBe("todo-api");
    expect(config.backendUrl).toBe("http://todo-chatbot-backend:8000");
  });
});

describe("trustedOrigins", () => {
  it("combines the base URL's origin with the comma-separated extras, without duplicates", () => {
    expect(trustedOrigins("http://localhost:3000/app", " http://192.168.49.2:30080/, ,http://localhost:3000,https://*.example.com")).toEqual([
      "http://localhost:3000",
      "http://192.168.49.2:30080",
      "https://*.example.com",
    ]);
  });
});

describe("postgresUrl", () => {
  it("accepts PostgreSQL URLs and strips a SQLAlchemy driver suffix", () => {
    expect(postgresUrl("postgresql+asyncpg://u:p@db:5432/todo?sslmode=require")).toBe("postgresql://u:p@db:5432/todo?sslmode=require");
    expect(postgresUrl("postgres://u@db/todo")).toBe("postgres://u@db/todo");
    expect(postgresUrl("  ")).toBeNull();
  });

  it("rejects other databases with a message that says what to do", () => {
    expect(() => postgresUrl("sqlite:///todo.db")).toThrow(/must be a PostgreSQL URL.*Unset it/);
  });
});

describe("sameOrigin", () => {
  const request = (headers: Record<string, string>) => new Request("http://internal:3000/api/auth/sign-up/email", { method: "POST", headers });

  it("trusts a page served from the host the request went to, at any address", () => {
    expect(sameOrigin(request({ origin: "http://192.168.49.2:30300", host: "192.168.49.2:30300" }))).toBe("http://192.168.49.2:30300");
    expect(sameOrigin(request({ origin: "http://localhost:8080", host: "localhost:8080" }))).toBe("http://localhost:8080");
    expect(sameOrigin(request({ origin: "https://todo.example.com", host: "TODO.example.com" }))).toBe("https://todo.example.com");
    expect(sameOrigin(request({ origin: "http://[::1]:3000", host: "[::1]:3000" }))).toBe("http://[::1]:3000");
  });

  it("refuses another site, another port, and anything without both headers", () => {
    expect(sameOrigin(request({ origin: "http://evil.example", host: "192.168.49.2:30300" }))).toBeNull();
    expect(sameOrigin(request({ origin: "http://192.168.49.2:30301", host: "192.168.49.2:30300" }))).toBeNull();
    expect(sameOrigin(request({ origin: "http://192.168.49.2.evil.example:30300", host: "192.168.49.2:30300" }))).toBeNull();
    expect(sameOrigin(request({ origin: "null", host: "localhost:3000" }))).toBeNull();
    expect(sameOrigin(request({ origin: "file://localhost", host: "localhost" }))).toBeNull();
    expect(sameOrigin(request({ host: "localhost:3000" }))).toBeNull();
    expect(sameOrigin(request({ origin: "http://localhost:3000", host: "evil/x" }))).toBeNull();
    expect(sameOrigin(undefined)).toBeNull();
  });
});

describe("poolSize", () => {
  it("reads DATABASE_POOL_SIZE, 10 when unset", () => {
    expect(readConfig({ DATABASE_POOL_SIZE: " 3 " }).databasePoolSize).toBe(3);
    expect(readConfig({}).databasePoolSize).toBe(10);
  });

  it("rejects what is not a whole number of at least 2 connections, naming the variable", () => {
    expect(poolSize("2")).toBe(2);
    for (const bad of ["0", "1", "-2", "2.5", "ten"]) {
      expect(() => poolSize(bad)).toThrow(/DATABASE_POOL_SIZE must be a whole number of connections, at least 2/);
    }
  });
});
