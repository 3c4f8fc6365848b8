import type { Context, MiddlewareHandler } from "hono";
import { flushMetricsSoon } from "../../../durable/protocol/metrics-sink";
import { metrics } from "../../../lib/metrics/recorder";
import { AppError } from "../../../lib/errors";
import type { AppEnv } from "../context";
import { problemResponse } from "../errors";
import { logRequest } from "./access-log";
import { pickRequestId } from "./request-id";
import { applySecurityHeaders } from "./security-headers";
import { continueTrace } from "./trace";

// Percent-encoded C0 controls (NUL included) and DEL. No path segment or query parameter of the API
// carries them, and SQLite, logs and clients mishandle them: refused for every route at once.
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;

/** Why a URL must be refused (an encoded control character in its path or query), or null. */
export function controlCharacterIn(url: string): string | null {
  return ENCODED_CONTROL.test(url) ? "The path or a query parameter contains a control character (e.g. %00)." : null;
}

/**
 * The first link of the chain: request id, W3C trace context, the URL guard, security headers
 * and the access log line. One
 * middleware rather than three, because every extra async frame costs on the hot path
 * (docs/performance.md).
 */
export function observe(): MiddlewareHandler<AppEnv> {
  return async function observe(c, next) {
    const start = performance.now();
    const requestId = pickRequestId(c.req.header("x-request-id"));
    const trace = continueTrace(c.req.header("traceparent"));
    c.set("requestId", requestId);
    c.set("traceId", trace.traceId);
    c.set("spanId", trace.spanId);
    c.set("logFields", {});
    const urlProblem = controlCharacterIn(c.req.url);
    // A refused URL still gets its request id, headers and log line: answered here, not thrown.
    if (urlProblem) c.res = problemResponse(c, new AppError("invalid_parameter", urlProblem));
    else await next();
    c.res.headers.set("x-request-id", requestId);
    c.res.headers.set("traceparent", trace.header);
    // 101 upgrades carry no document: nothing to secure, and their headers are the handshake.
    if (c.res.status !== 101) applySecurityHeaders(c.res.headers);
    logRequest(c, start);
    countRequest(c, start);
  };
}

/**
 * The request's metrics (docs/operations.md): by matched route template, never the raw path (a
 * request no route matched counts as `unmatched`), and handed to the aggregator off the response
 * path.
 */
function countRequest(c: Context<AppEnv>, start: number): void {
  const matched = c.req.matchedRoutes.findLast((r) => r.method !== "ALL")?.path;
  const route = matched ?? "unmatched";
  const method = c.req.method;
  const tenant = c.get("tenant")?.id ?? "";
  metrics.add("canopy_http_requests_total", { route, method, status: c.res.status }, 1, tenant);
  metrics.observe(
    "canopy_http_request_duration_seconds",
    { route, method },
    (performance.now() - start) / 1000,
    tenant,
  );
  let ctx: { waitUntil(p: Promise<unknown>): void };
  try {
    ctx = c.executionCtx;
  } catch {
    return; // app.request() without an execution context: nothing to flush with.
  }
  flushMetricsSoon(c.env, (p) => ctx.waitUntil(p));
}
