import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/workers/context";
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

  it("keeps anything else a 500 without internals, flags that are not true included", async () => {
    for (const err of [new Error("bug"), runtimeError({ retryable: false }), Object.assign(new Error("x"), { retryable: "yes" })]) {
      const res = await appThrowing(err).request("/boom");
      expect(res.status).toBe(500);
      const body = await res.json<{ code: string; detail: string }>();
      expect(body.code).toBe("internal_error");
      expect(body.detail).not.toMatch(/bug|Durable Object/);
    }
  });
});
