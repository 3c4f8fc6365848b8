import type { Context, MiddlewareHandler } from "hono";
import { flushMetricsSoon } from "../../../durable/protocol/metrics-sink";
import { metrics } from "../../../lib/metrics/recorder";
import { AppError } from "../../../lib/errors";
import type { AppEnv } from "../context";
import { problemResponse } from "../errors";
import { handlerRoute } from "../http";
import { logRequest } from "./access-log";
import { pickRequestId } from "./request-id";
import { applySecurityHeaders, presetReached, presetSecurityHeaders } from "./security-headers";
import { configureTelemetry, samplerRatio } from "../../../lib/telemetry";
import { exportSpansSoon } from "../../../lib/tracing/otlp";
import { parseTraceparent, Span, startTrace, traceparent, withTrace } from "../../../lib/tracing/spans";

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
    // No env under app.request() (the OpenAPI document rendered in Node): defaults.
    const env: Partial<Env> = c.env ?? {};
    configureTelemetry(env);
    const trace = startTrace(parseTraceparent(c.req.header("traceparent")), samplerRatio(env));
    const span = new Span(c.req.method, "server", trace.parent, {}, trace.sampled);
    c.set("requestId", requestId);
    c.set("traceId", span.context.traceId);
    c.set("spanId", span.context.spanId);
    c.set("traceSampled", span.context.sampled);
    c.set("logFields", {});
    // Every response's own headers, handed to the context now: a response it builds is made with
    // them (security-headers.ts says why); one a route builds itself gets them below.
    const responseTrace = traceparent(span.context);
    c.header("x-request-id", requestId);
    c.header("traceparent", responseTrace);
    presetSecurityHeaders((name, value) => c.header(name, value));
    const urlProblem = controlCharacterIn(c.req.url);
    // A refused URL still gets its request id, headers and log line: answered here, not thrown.
    if (urlProblem) c.res = problemResponse(c, new AppError("invalid_parameter", urlProblem));
    // The request's span is the current trace context of everything below (database calls, …).
    else await withTrace(span.context, next);
    // 101 upgrades carry no document: nothing to secure, and their headers are the handshake.
    if (c.res.status !== 101 && !presetReached(c.res.headers)) {
      c.res.headers.set("x-request-id", requestId);
      c.res.headers.set("traceparent", responseTrace);
      applySecurityHeaders(c.res.headers);
    }
    logRequest(c, start);
    finishRequest(c, start, span);
  };
}

/**
 * Ends the request's span and counts the request (docs/operations.md): by matched route
 * template, never the raw path (a request no route matched is `unmatched`); metrics and spans are
 * handed on off the response path.
 */
function finishRequest(c: Context<AppEnv>, start: number, span: Span): void {
  const route = handlerRoute(c) ?? "unmatched";
  const method = c.req.method;
  if (span.recording) {
    span.rename(`${method} ${route}`);
    span.set("http.route", route);
    span.set("http.request.method", method);
    span.set("http.response.status_code", c.res.status);
    if (c.get("tenant")) span.set("canopy.tenant", c.get("tenant").slug);
    span.end(c.res.status >= 500 ? `HTTP ${c.res.status}` : undefined);
  }
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
  exportSpansSoon(c.env, (p) => ctx.waitUntil(p));
}
