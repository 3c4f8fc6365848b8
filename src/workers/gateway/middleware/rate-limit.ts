import type { RateLimiter } from "../../../durable/rate-limiter";
import type { RateLimitResult } from "../../../durable/sliding-window";

import type { MiddlewareHandler } from "hono";
import { doName } from "../../../durable/names";
import { idOf } from "../../../durable/protocol/stubs";
import { AppError } from "../../../lib/errors";
import { log } from "../../../lib/log";
import { metrics } from "../../../lib/metrics/recorder";
import type { AppEnv } from "../context";
import { type RateCheck, type RateLimitStore, type Reservation, reserveEach } from "./rate-limit-store";
import { upstashStoreFromEnv } from "./rate-limit-upstash";

/** RateLimiter objects per tenant: a key always lands on the same one (docs/rate-limiting.md). */
export const RATE_LIMIT_SHARDS = 32;

/**
 * Which of its tenant's shards holds a key: FNV-1a (32 bits) of the key, or of its hash tag when
 * it has one (as in Redis Cluster: the text between the first `{` and the next `}`, if not
 * empty), so keys that must be checked together in one call share a shard.
 */
export function shardOf(key: string): number {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  const [from, to] = close > open + 1 ? [open + 1, close] : [0, key.length];
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % RATE_LIMIT_SHARDS;
}

/** The tenant a key belongs to: its prefix up to the first `:`. */
const tenantOf = (key: string) => key.slice(0, Math.max(0, key.indexOf(":")));

/**
 * The default store: a tenant's keys spread by hash over {@link RATE_LIMIT_SHARDS} RateLimiter
 * Durable Objects named `<tenantId>:rl:<shard>` (the key's tenant prefix), each holding its keys'
 * counters as rows of its SQLite storage. A shard per key would make every new client address a
 * new object (storage created, schema migrated) on its first request; a fixed set is created once
 * and stays warm. A check is a short synchronous call, so keys sharing a shard barely wait on
 * each other.
 */
export class DurableObjectRateLimitStore implements RateLimitStore {
  readonly name = "durable-object" as const;
  constructor(private readonly ns: DurableObjectNamespace<RateLimiter>) {}

  check(key: string, limit: number, windowSeconds: number, cost = 1): Promise<RateLimitResult> {
    return this.shard(key).check(key, limit, windowSeconds, cost);
  }

  count(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
    return this.shard(key).count(key, limit, windowSeconds);
  }

  /**
   * When every key is on one shard (one tenant, one hash tag): one call that holds the units in
   * the object's memory and one that settles them, writing only the spent ones. Else
   * {@link reserveEach}.
   */
  async reserve(checks: readonly RateCheck[]): Promise<Reservation> {
    const first = checks[0];
    if (!first) return { results: [], settle: async () => {} };
    const [tenant, shard] = [tenantOf(first.key), shardOf(first.key)];
    if (checks.some((c) => tenantOf(c.key) !== tenant || shardOf(c.key) !== shard)) return reserveEach(this, checks);
    const stub = this.shard(first.key);
    const { results, ticket } = await stub.hold(checks);
    return { results, settle: async (spent) => (ticket ? stub.settle(ticket, spent) : undefined) };
  }

  private shard(key: string) {
    return this.ns.get(idOf(this.ns, doName(tenantOf(key), "rl", String(shardOf(key)))));
  }
}

/**
 * The client address, from the one header the edge in front of the Worker sets: CLIENT_IP_HEADER
 * when configured, else CF-Connecting-IP in production only (Cloudflare sets it and overwrites a
 * client's own; outside Cloudflare anyone can send it). X-Forwarded-For is never trusted.
 */
export function clientAddress(
  headers: { header(name: string): string | undefined },
  env: Pick<Env, "CLIENT_IP_HEADER" | "ENVIRONMENT">,
): string {
  const name = env.CLIENT_IP_HEADER || (env.ENVIRONMENT === "production" ? "cf-connecting-ip" : "");
  const value = name ? headers.header(name)?.trim() : undefined;
  // Bounded and plain, so a forged header cannot bloat throttle keys or logs.
  return value && /^[0-9A-Fa-f.:]{2,45}$/.test(value) ? value : "unknown";
}

/** IETF RateLimit / RateLimit-Policy header values (draft-ietf-httpapi-ratelimit-headers). */
export function rateLimitHeaders(policy: string, r: RateLimitResult, windowSeconds: number): Record<string, string> {
  return {
    "ratelimit-policy": `"${policy}";q=${r.limit};w=${windowSeconds}`,
    ratelimit: `"${policy}";r=${r.remaining};t=${r.allowed ? r.reset : r.retryAfter}`,
  };
}

/** The 429 every limiter answers. */
export function tooManyRequests(
  policy: string,
  r: RateLimitResult,
  windowSeconds: number,
  detail = "Too many requests; retry later.",
): AppError {
  return new AppError("rate_limited", detail, {
    headers: { "retry-after": String(Math.max(1, r.retryAfter)), ...rateLimitHeaders(policy, r, windowSeconds) },
  });
}

/** The configured store: Upstash when configured, else the RateLimiter Durable Object. */
export function rateLimitStore(env: Env): RateLimitStore {
  return upstashStoreFromEnv(env) ?? new DurableObjectRateLimitStore(env.RATE_LIMITER);
}

/** Route classes and their per-minute budgets (the `api` class follows the tenant's config). */
const CLASS_LIMITS = { auth: 30, api: 0 } as const;
export type RouteClass = keyof typeof CLASS_LIMITS;

/**
 * Gateway rate limit for a route class, keyed by tenant + (user or API key, else client address)
 * + class. Sets the IETF RateLimit headers; 429 problem+json with Retry-After when spent.
 * A failing store lets requests through (logged): the sign-in throttle, which must not, fails
 * closed on its own (auth/throttle.ts).
 */
export function rateLimit(routeClass: RouteClass): MiddlewareHandler<AppEnv> {
  return async function rateLimit(c, next) {
    const tenant = c.get("tenant");
    const p = c.get("principal");
    const subject = p ? (p.kind === "user" ? `u:${p.userId}` : `k:${p.keyId}`) : `ip:${clientAddress(c.req, c.env)}`;
    const limit = CLASS_LIMITS[routeClass] || tenant.config.limits.requestsPerMinute;
    let result: RateLimitResult | undefined = routeClass === "api" ? c.get("userRate") : undefined;
    if (!result) {
      try {
        result = await rateLimitStore(c.env).count(`${tenant.id}:${subject}:${routeClass}`, limit, 60);
      } catch (err) {
        log("error", "rate limiter unavailable; allowing", { tenant: tenant.slug, error: String(err) });
      }
    }
    if (result && !result.allowed) {
      metrics.add("canopy_rate_limited_total", { class: routeClass }, 1, tenant.id);
      throw tooManyRequests(routeClass, result, 60);
    }
    // Handed to the context before the route, so the response it builds is made with them (a
    // header set on a finished response costs far more; security-headers.ts); a response the
    // route builds itself gets them afterwards.
    const headers = result ? rateLimitHeaders(routeClass, result, 60) : undefined;
    if (headers) for (const k in headers) c.header(k, headers[k]);
    await next();
    if (headers && !c.res.headers.has("ratelimit")) for (const k in headers) c.res.headers.set(k, headers[k]!);
  };
}
