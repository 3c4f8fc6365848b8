import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/workers/gateway/context";
import { onError } from "../../src/workers/gateway/errors";

/** An error as the runtime raises it for a Durable Object call (flags per Cloudflare's error handling). */
function runtimeError(flags: { retryable?: boolean; overloaded?: boolean }): Error {
  return Object.assign(new Error("Durable Object reset because its code was updated."), flags);
}

function appThrowing(err: unknown): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("requestId", "req-1");
    await next();
  });
  app.get("/boom", () => {
    throw err;
  });
  app.onError(onError);
  return app;
}

describe("the error renderer and the runtime's transient failures", () => {
  it("answers a retryable Durable Object error with 503, a short Retry-After and no internals", async () => {
    const res = await appThrowing(runtimeError({ retryable: true })).request("/boom");
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("retry-after")).toBe("1");
    const body = await res.json<{ code: string; detail: string; requestId: string }>();
    expect(body.code).toBe("temporarily_unavailable");
    expect(body.requestId).toBe("req-1");
    expect(body.detail).not.toContain("Durable Object");
  });

  it("tells an overloaded object's caller to wait longer, even when the error is also retryable", async () => {
    const res = await appThrowing(runtimeError({ overloaded: true, retryable: true })).request("/boom");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("10");
    expect((await res.json<{ code: string }>()).code).toBe("overloaded");
  });

  it("answers the open-file limit (SQLite cannot open, EMFILE), also as a cause, with 503 and Retry-After", async () => {
    for (const err of [
      new Error("SQLITE_CANTOPEN: unable to open database file"),
      new Error("Error: unable to open database file: /var/do/abc.sqlite"),
      new Error("accept: Too many open files"),
      new Error("Durable Object call failed", { cause: new Error("EMFILE: too many open files, open 'x'") }),
    ]) {
      const res = await appThrowing(err).request("/boom");
      expect(res.status, err.message).toBe(503);
      expect(res.headers.get("retry-after")).toBe("2");
      const body = await res.json<{ code: string; detail: string }>();
      expect(body.code).toBe("temporarily_unavailable");
      expect(body.detail).not.toMatch(/SQLITE|EMFILE|database file/);
    }
  });

  it("keeps anything else a 500 without internals, flags that are not true included", async () => {
    for (const err of [
      new Error("bug"),
      runtimeError({ retryable: false }),
      Object.assign(new Error("x"), { retryable: "yes" }),
    ]) {
      const res = await appThrowing(err).request("/boom");
      expect(res.status).toBe(500);
      const body = await res.json<{ code: string; detail: string }>();
      expect(body.code).toBe("internal_error");
      expect(body.detail).not.toMatch(/bug|Durable Object/);
    }
  });
});

describe("a tenant database that cannot be reached", () => {
  it("answers 503 service_unavailable with Retry-After, never a 500, and recovers when it is back", async () => {
    const { env } = await import("cloudflare:test");
    const { platformDb } = await import("../../src/db/client");
    const { findTenantBySlug, updateTenant } = await import("../../src/db/platform/tenants");
    const { forgetTenant } = await import("../../src/workers/tenancy/tenant-cache");
    const { registerUser, as } = await import("./auth-helpers");
    const { createTenant, call, expectProblem } = await import("./helpers");
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const db = platformDb(env);
    const row = (await findTenantBySlug(db, t.slug))!;
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    await updateTenant(db, row.id, { dbUrl: "http://127.0.0.1:9/dev/nowhere/" });
    forgetTenant(t.slug, row.id);
    for (const res of [
      await call("/v1/me", as(t.slug, u)),
      await call("/v1/users?q=abc", as(t.slug, u)),
      await call("/v1/auth/login", {
        method: "POST",
        tenant: t.slug,
        json: { identifier: u.username, password: u.password },
      }),
    ]) {
      // Unreachable: 503 service_unavailable, or, once the database's breaker has opened after
      // repeated failures, 503 dependency_unavailable failing fast until its probe is due.
      const body = await res.clone().json<{ code: string }>();
      await expectProblem(res, 503, body.code === "dependency_unavailable" ? body.code : "service_unavailable");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    await updateTenant(db, row.id, { dbUrl: row.dbUrl });
    forgetTenant(t.slug, row.id);
    expect((await call("/v1/me", as(t.slug, u))).status).toBe(200);
  });
});
