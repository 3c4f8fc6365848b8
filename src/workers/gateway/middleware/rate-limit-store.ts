import type { RateLimitResult } from "../../../durable/sliding-window";

/**
 * Where rate-limit counters live. `key` is already tenant-prefixed by the caller
 * (`<tenantId>:<subject>:<route class>`). Implementations must be atomic per key: two
 * concurrent checks can never both take the last unit. Implemented by the RateLimiter Durable
 * Object (rate-limit.ts) and Upstash (rate-limit-upstash.ts).
 */
export interface RateLimitStore {
  readonly name: "durable-object" | "upstash";
  /** Takes `cost` units (default 1) if they fit; a negative cost hands units back and is always allowed. */
  check(key: string, limit: number, windowSeconds: number, cost?: number): Promise<RateLimitResult>;
}
