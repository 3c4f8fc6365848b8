import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../context";
import { logRequest } from "./access-log";
import { pickRequestId } from "./request-id";
import { applySecurityHeaders } from "./security-headers";
import { continueTrace } from "./trace";

/**
 * The first link of the chain: request id, W3C trace context, security headers and the access
 * log line. One
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
    await next();
    c.res.headers.set("x-request-id", requestId);
    c.res.headers.set("traceparent", trace.header);
    // 101 upgrades carry no document: nothing to secure, and their headers are the handshake.
    if (c.res.status !== 101) applySecurityHeaders(c.res.headers);
    logRequest(c, start);
  };
}
