import type { Context } from "hono";
import { routePath } from "hono/route";
import { log } from "../../../lib/log";
import type { AppEnv } from "../../context";

/** One JSON line per request: time, level, request id, trace id, tenant, route, status, duration. */
export function logRequest(c: Context<AppEnv>, start: number): void {
  const status = c.res.status;
  log(status >= 500 ? "error" : status >= 400 ? "warn" : "info", "request", {
    requestId: c.get("requestId"),
    traceId: c.get("traceId"),
    tenant: c.get("tenant")?.slug ?? null,
    method: c.req.method,
    route: routePath(c, -1),
    path: c.req.path,
    status,
    durationMs: Math.round((performance.now() - start) * 100) / 100,
    ...c.get("logFields"),
  });
}
