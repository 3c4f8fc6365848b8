import type { Context, ErrorHandler, Hono, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, errorChain, isUnreachable, toProblem } from "../../lib/errors";
import { log } from "../../lib/log";
import type { AppEnv } from "./context";
import { openCircuitIn } from "../../lib/breakers";

/** Maps what Hono itself throws (malformed JSON and the like) onto our error codes. */
function fromHttpException(err: HTTPException): AppError {
  if (err.status === 400 && /json/i.test(err.message)) {
    return new AppError("malformed_json", "The request body is not valid JSON.");
  }
  if (err.status === 413) return new AppError("body_too_large", "The request body is too large.");
  if (err.status === 415) return new AppError("unsupported_media_type", "Send the body as application/json.");
  // Hono throws nothing else on our routes; should it, the closest registered code answers.
  const code =
    ({ 401: "unauthenticated", 404: "route_not_found", 405: "method_not_allowed", 429: "rate_limited" } as const)[
      err.status as 401
    ] ?? "bad_request";
  return new AppError(code, err.message || "The request could not be processed.");
}

/** Renders an AppError as problem+json, with its extra headers; the request's log line gets its code. */
export function problemResponse(c: Context<AppEnv>, err: AppError): Response {
  c.set("logFields", { ...c.get("logFields"), code: err.code });
  const body = JSON.stringify(toProblem(err, c.get("requestId") ?? "unknown"));
  const headers = new Headers({ "content-type": "application/problem+json", ...err.extra.headers });
  return new Response(body, { status: err.status, headers });
}

/**
 * Errors the runtime raises for a Durable Object it could not reach or that is overloaded carry
 * `overloaded` or `retryable` (Cloudflare's Durable Objects error handling). They are not bugs of
 * the request: 503 with Retry-After (longer when overloaded, which retrying soon only worsens).
 */
function fromRuntime(err: unknown): AppError | null {
  if (!(err instanceof Error)) return null;
  const flags = err as Error & { overloaded?: unknown; retryable?: unknown };
  if (flags.overloaded === true) {
    return new AppError("overloaded", "This part of the service is overloaded; retry later.", {
      headers: { "retry-after": "10" },
    });
  }
  if (flags.retryable === true) {
    return new AppError("temporarily_unavailable", "This part of the service is briefly unavailable; retry shortly.", {
      headers: { "retry-after": "1" },
    });
  }
  return null;
}

/** What the runtime says when the process is out of file descriptors (SQLite's open, a socket's accept). */
const OUT_OF_FILES = /unable to open (?:the )?database file|SQLITE_CANTOPEN|too many open files|\bEMFILE\b/i;

/**
 * The open-file limit reached (a Durable Object's SQLite file could not be opened, a socket not
 * accepted): the process is saturated, not the request wrong, and it passes as sockets close.
 * 503 with Retry-After, on HTTP and on a socket's upgrade alike; searched along the cause chain.
 */
function fromResourceLimit(err: unknown): AppError | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (OUT_OF_FILES.test(e.message)) {
      return new AppError("temporarily_unavailable", "The service is at capacity for a moment; retry shortly.", {
        headers: { "retry-after": "2" },
      });
    }
  }
  return null;
}

/**
 * An open circuit breaker (src/lib/breakers.ts) anywhere in the cause chain (the libSQL client
 * passes a fetch failure on as is, or as the cause of its own error): 503 with the breaker's
 * Retry-After, the time until it lets a probe through.
 */
function fromBreaker(err: unknown): AppError | null {
  const open = openCircuitIn(err);
  return open
    ? new AppError("dependency_unavailable", `${open.message}.`, {
        headers: { "retry-after": String(open.retryAfterSeconds) },
      })
    : null;
}

/**
 * A database (or another service over the network) that is down, unreachable, hung or reset is
 * not a bug of the request: 503 with Retry-After. Nothing was half-applied: every multi-row write
 * is one batch or transaction, which the server commits whole or not at all; a write whose
 * answer was lost may have committed, which is why non-repeatable POSTs take an Idempotency-Key.
 */
function fromNetwork(err: unknown): AppError | null {
  if (!isUnreachable(err)) return null;
  return new AppError("service_unavailable", "A backing service did not answer; retry shortly.", {
    headers: { "retry-after": "2" },
  });
}

/**
 * The one error renderer. Known errors keep their status and code; the runtime's transient
 * failures and unreachable services become a 503; anything else is logged with its stack and
 * answered as a bare 500, so no internals reach the client.
 */
export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof AppError) return problemResponse(c, err);
  if (err instanceof HTTPException) return problemResponse(c, fromHttpException(err));
  const context = {
    requestId: c.get("requestId"),
    traceId: c.get("traceId"),
    error: err instanceof Error ? err.message : String(err),
  };
  const transient = fromBreaker(err) ?? fromRuntime(err) ?? fromResourceLimit(err) ?? fromNetwork(err);
  if (transient) {
    log("warn", "transient runtime error", { ...context, code: transient.code });
    return problemResponse(c, transient);
  }
  log("error", "unhandled error", { ...context, stack: err instanceof Error ? err.stack : undefined });
  return problemResponse(
    c,
    new AppError("internal_error", "Something went wrong on our side; quote the request id when reporting it."),
  );
};

/**
 * 404 for unknown paths, 405 (with Allow) when the path exists under other methods. Route
 * patterns are compiled once per isolate from the assembled app.
 */
export function notFoundHandler(app: Hono<AppEnv>): NotFoundHandler<AppEnv> {
  let patterns: { re: RegExp; method: string }[] | undefined;
  return (c) => {
    patterns ??= app.routes
      .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => ({
        method: r.method,
        re: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z0-9_]+/g, "[^/]+")}/?$`),
      }));
    const allow = [...new Set(patterns.filter((p) => p.re.test(c.req.path)).map((p) => p.method))];
    if (allow.length > 0) {
      return problemResponse(
        c,
        new AppError(
          "method_not_allowed",
          `${c.req.method} is not allowed on ${c.req.path}; use ${allow.join(", ")}.`,
          {
            headers: { allow: allow.join(", ") },
          },
        ),
      );
    }
    return problemResponse(c, new AppError("route_not_found", `No route for ${c.req.method} ${c.req.path}.`));
  };
}
