import type { RateLimiter, RateLimitResult } from "../durable/rate-limiter";

export type { RateLimitResult } from "../durable/rate-limiter";
import { AppError } from "../lib/errors";

/**
 * Where rate-limit counters live. `key` is already tenant-prefixed by the caller
 * (`<tenantId>:<subject>:<route class>`). Implementations must be atomic per key: two
 * concurrent checks can never both take the last unit.
 */
export interface RateLimitStore {
  readonly name: "durable-object" | "upstash";
  check(key: string, limit: number, windowSeconds: number, cost?: number): Promise<RateLimitResult>;
}

/**
 * The default store: one RateLimiter Durable Object per key (named by the key, so one hot key
 * never serialises other keys). Counters persist in the object's SQLite storage.
 */
export class DurableObjectRateLimitStore implements RateLimitStore {
  readonly name = "durable-object" as const;
  constructor(private readonly ns: DurableObjectNamespace<RateLimiter>) {}

  check(key: string, limit: number, windowSeconds: number, cost = 1): Promise<RateLimitResult> {
    const stub = this.ns.get(this.ns.idFromName(key));
    return stub.check(key, limit, windowSeconds, cost);
  }
}

/** The client address: Cloudflare's CF-Connecting-IP. X-Forwarded-For is never trusted. */
export function clientAddress(headers: { header(name: string): string | undefined }): string {
  return headers.header("cf-connecting-ip")?.trim() || "unknown";
}

/** IETF RateLimit / RateLimit-Policy header values (draft-ietf-httpapi-ratelimit-headers). */
export function rateLimitHeaders(policy: string, r: RateLimitResult, windowSeconds: number): Record<string, string> {
  return {
    "ratelimit-policy": `"${policy}";q=${r.limit};w=${windowSeconds}`,
    ratelimit: `"${policy}";r=${r.remaining};t=${r.allowed ? r.reset : r.retryAfter}`,
  };
}

/** The 429 every limiter answers. */
export function tooManyRequests(policy: string, r: RateLimitResult, windowSeconds: number, detail = "Too many requests; retry later."): AppError {
  return new AppError(429, "rate_limited", detail, {
    headers: { "retry-after": String(Math.max(1, r.retryAfter)), ...rateLimitHeaders(policy, r, windowSeconds) },
  });
}
