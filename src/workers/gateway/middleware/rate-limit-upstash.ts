import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import type { RateLimitResult } from "../../../durable/sliding-window";
import { type RateCheck, type RateLimitStore, type Reservation, reserveEach } from "./rate-limit-store";
import { type Breaker, breakerFor, guard } from "../../../lib/breakers";

/** What the Upstash console calls UPSTASH_REDIS_REST_URL / _TOKEN. */
export interface UpstashConnection {
  url: string;
  token: string;
}

/** The client @upstash/ratelimit takes; the `Redis` of `@upstash/redis` or of its `/cloudflare` entry. */
export type UpstashRedis = ConstructorParameters<typeof Ratelimit>[0]["redis"];

export interface UpstashStoreOptions {
  /** Deadline of one check in ms (default 1000). A check that misses it rejects: callers fail closed. */
  timeoutMs?: number;
  /** Prefix of every Redis key (default `canopy:rl`). */
  prefix?: string;
  /** Limiters (one per limit/window pair) kept per isolate before the oldest is dropped (default 64). */
  maxLimiters?: number;
}

/**
 * Rate-limit store on Upstash Redis through `@upstash/ratelimit`'s sliding window (the same
 * weighted two-window approximation as the RateLimiter DO). Atomic per key: each check is one
 * Lua script in Redis. Errors and timeouts reject; the library's own fail-open paths are closed:
 * - its `timeout` resolves `success: true, reason: "timeout"`: turned into a rejection here;
 * - its ephemeral cache is disabled: it only remembers blocked identifiers, until the end of the
 *   current fixed window, which over-blocks a sliding window (the weighted previous window frees
 *   room earlier), and its Map is unbounded per isolate. Every check goes to Redis.
 *
 * Construct once per isolate (see {@link upstashStoreFromEnv}) so limiters and the client are reused.
 */
export class UpstashRateLimitStore implements RateLimitStore {
  readonly name = "upstash" as const;
  private readonly redis: UpstashRedis;
  private readonly limiters = new Map<string, Ratelimit>();
  private readonly timeoutMs: number;
  private readonly prefix: string;
  private readonly maxLimiters: number;
  /** Fails fast while Upstash keeps failing (src/lib/breakers.ts); callers decide open or closed. */
  private readonly breaker: Breaker;

  constructor(connection: UpstashConnection | UpstashRedis, options: UpstashStoreOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.prefix = options.prefix ?? "canopy:rl";
    this.maxLimiters = options.maxLimiters ?? 64;
    this.breaker = breakerFor("upstash", "url" in connection ? connection.url : "client", () => true);
    this.redis =
      "url" in connection
        ? new Redis({
            url: connection.url,
            token: connection.token,
            // One script call per check: nothing to batch, and a batch shared by two requests'
            // checks would be I/O from one request awaited by another, which workerd forbids.
            enableAutoPipelining: false,
            enableTelemetry: false,
            // Network errors are retried once; the per-check timeout bounds the total anyway.
            retry: { retries: 1, backoff: () => 50 },
          })
        : connection;
  }

  /** Each key is its own script call (see reserveEach). */
  reserve(checks: readonly RateCheck[]): Promise<Reservation> {
    return reserveEach(this, checks);
  }

  /** Redis answers after the write anyway: a plain check. */
  count(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
    return this.check(key, limit, windowSeconds);
  }

  async check(key: string, limit: number, windowSeconds: number, cost = 1): Promise<RateLimitResult> {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`rate limit: limit must be a positive integer, got ${limit}`);
    if (!(windowSeconds > 0)) throw new RangeError(`rate limit: window must be positive, got ${windowSeconds}`);
    // A negative cost is a refund: the library's scripts skip the limit check and decrement.
    if (!Number.isInteger(cost) || cost === 0)
      throw new RangeError(`rate limit: cost must be a non-zero integer, got ${cost}`);

    const res = await guard(this.breaker, async () => {
      const r = await this.limiter(limit, windowSeconds).limit(key, { rate: cost });
      // Only analytics, deny lists and multi-region sync put work in `pending`; all are off here,
      // so it is already settled. Awaiting it keeps the store free of an ExecutionContext and
      // surfaces anything that ever lands there instead of leaving a floating promise.
      await r.pending;
      if (r.reason === "timeout") throw new Error(`rate limit: Upstash did not answer within ${this.timeoutMs} ms`);
      return r;
    });

    const now = Date.now();
    const reset = Math.max(0, Math.ceil((res.reset - now) / 1000));
    if (res.success) return { allowed: true, limit: res.limit, remaining: res.remaining, retryAfter: 0, reset };
    // Upstash's `reset` is the end of the current fixed window: the hint the DO store also gives
    // when the current window alone is full. Never 0 for a denial (clients would retry at once).
    return {
      allowed: false,
      limit: res.limit,
      remaining: 0,
      retryAfter: Math.max(1, reset),
      reset: Math.max(1, reset),
    };
  }

  /** The limiter for one limit/window pair, cached per isolate (least recently used dropped first). */
  private limiter(limit: number, windowSeconds: number): Ratelimit {
    const id = `${limit}:${windowSeconds}`;
    let limiter = this.limiters.get(id);
    if (limiter) {
      this.limiters.delete(id); // re-insert: Map order is the recency order
    } else {
      limiter = new Ratelimit({
        redis: this.redis,
        limiter: Ratelimit.slidingWindow(limit, `${windowSeconds} s`),
        // Counters of different windows never share keys; different limits on one window do,
        // so a tenant's new limit applies to what was already counted.
        prefix: `${this.prefix}:${windowSeconds}s`,
        ephemeralCache: false,
        timeout: this.timeoutMs,
        analytics: false,
      });
      if (this.limiters.size >= this.maxLimiters) {
        const oldest = this.limiters.keys().next().value;
        if (oldest !== undefined) this.limiters.delete(oldest);
      }
    }
    this.limiters.set(id, limiter);
    return limiter;
  }
}

/** The Upstash settings a Worker may have (not in the generated Env yet). */
export interface UpstashEnv {
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
}

// One store per URL + token per isolate, so limiters and the client outlive a request.
const stores = new Map<string, UpstashRateLimitStore>();

/** The Upstash store when both settings are present (non-empty), else undefined (use the DO store). */
export function upstashStoreFromEnv(env: UpstashEnv, options?: UpstashStoreOptions): UpstashRateLimitStore | undefined {
  const url = env.UPSTASH_REDIS_REST_URL?.trim();
  const token = env.UPSTASH_REDIS_REST_TOKEN?.trim();
  if (!url || !token) return undefined;
  const id = `${url}\n${token}`;
  let store = stores.get(id);
  if (!store) {
    if (stores.size >= 4) stores.clear(); // settings rarely change within an isolate's life
    store = new UpstashRateLimitStore({ url, token }, options);
    stores.set(id, store);
  }
  return store;
}
