import type { Context } from "hono";
import { routePath } from "hono/route";
import { log } from "../../../lib/log";
import type { AppEnv } from "../context";

/**
 * One JSON line per request: time, level, request id, trace id, tenant, route, status, duration.
 * The fields are taken now; serialising and writing the line happens after the response has
 * gone out (waitUntil + a timer turn), so logging costs the client nothing (docs/performance.md).
 */
export function logRequest(c: Context<AppEnv>, start: number): void {
  const status = c.res.status;
  const level = status >= 500 ? "error" : status >= 400 ? "warn" : "info";
  const fields = {
    requestId: c.get("requestId"),
    traceId: c.get("traceId"),
    tenant: c.get("tenant")?.slug ?? null,
    method: c.req.method,
    route: routePath(c, -1),
    path: c.req.path,
    status,
    durationMs: Math.round((performance.now() - start) * 100) / 100,
    ...c.get("logFields"),
  };
  const write = () => log(level, "request", fields);
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    // No execution context (app.request() in a unit test): log inline.
  }
  if (ctx) ctx.waitUntil(new Promise<void>((resolve) => setTimeout(() => resolve(write()), 0)));
  else write();
}
