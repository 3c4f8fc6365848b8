import type { Context } from "hono";
import { AppError } from "../../../lib/errors";
import type { AppEnv } from "../context";

const ALLOW_HEADERS = "authorization, content-type, idempotency-key, x-request-id, x-tenant, traceparent";
const EXPOSE_HEADERS = "x-request-id, traceparent, retry-after, ratelimit, ratelimit-policy";

export interface CorsDecision {
  /** Headers to add to the response. */
  headers: Record<string, string>;
  /** Set for a preflight: answer it directly. */
  preflight?: Response;
}

/**
 * Per-tenant CORS from the tenant's `allowedOrigins` ('*' allows any origin). A browser request
 * from an origin that is not allowed is refused outright (403), not merely left without CORS
 * headers, so a foreign page cannot make state-changing calls it cannot read.
 */
export function corsFor(c: Context<AppEnv>): CorsDecision | undefined {
  const origin = c.req.header("origin");
  if (!origin) return undefined;
  const allowed = c.get("tenant").config.allowedOrigins;
  if (!allowed.includes("*") && !allowed.includes(origin)) {
    throw new AppError("origin_not_allowed", `The origin ${origin} is not allowed for this tenant.`);
  }
  const headers: Record<string, string> = {
    "access-control-allow-origin": origin,
    "access-control-allow-credentials": "true",
    "access-control-expose-headers": EXPOSE_HEADERS,
    vary: "Origin",
  };
  if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
    const preflight = new Response(null, {
      status: 204,
      headers: {
        ...headers,
        "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
        "access-control-allow-headers": ALLOW_HEADERS,
        "access-control-max-age": "600",
      },
    });
    return { headers, preflight };
  }
  return { headers };
}
