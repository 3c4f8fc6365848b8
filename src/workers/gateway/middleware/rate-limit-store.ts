import type { RateCheck, RateLimitResult } from "../../../durable/sliding-window";
import { log } from "../../../lib/log";

export type { RateCheck } from "../../../durable/sliding-window";

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
  /**
   * One unit of a route limit (the gateway's per-class limits): a check whose count may be
   * written a moment after it answers (the RateLimiter writes them behind, WRITE_BEHIND_MS).
   */
  count(key: string, limit: number, windowSeconds: number): Promise<RateLimitResult>;
  /**
   * Takes units from several keys as one, all or nothing, until the attempt they guard is judged:
   * see {@link Reservation}. Costs are positive.
   */
  reserve(checks: readonly RateCheck[]): Promise<Reservation>;
}

/**
 * Units taken from several keys for one attempt. When any check is refused, none is taken (the
 * refused results say `allowed: false`; the others say whether they would have fit) and
 * `settle` does nothing. Else every unit counts until `settle` names the keys whose units stay
 * spent; the others are handed back.
 */
export interface Reservation {
  results: RateLimitResult[];
  settle(spent: readonly string[]): Promise<void>;
}

/**
 * {@link RateLimitStore.reserve} from single checks, for keys no one call can cover: the units
 * are taken with {@link checkEach} and handed back the same way when settled.
 */
export async function reserveEach(store: RateLimitStore, checks: readonly RateCheck[]): Promise<Reservation> {
  const results = await checkEach(store, checks);
  const taken = results.every((r) => r.allowed);
  return {
    results,
    settle: async (spent) => {
      const back = taken ? checks.filter((c) => !spent.includes(c.key)) : [];
      if (back.length)
        await checkEach(
          store,
          back.map((c) => ({ ...c, cost: -c.cost })),
        );
    },
  };
}

/**
 * Several checks from single ones, all or nothing: all at once, then the units taken handed back
 * when any check was refused or failed (a failure is thrown after that). Two such batches racing
 * can refuse each other where one call would not; they never admit more than a limit.
 */
export async function checkEach(store: RateLimitStore, checks: readonly RateCheck[]): Promise<RateLimitResult[]> {
  const settled = await Promise.allSettled(checks.map((c) => store.check(c.key, c.limit, c.windowSeconds, c.cost)));
  const failed = settled.find((s) => s.status === "rejected");
  const results = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  if (!failed && results.every((r) => r.allowed)) return results;
  await Promise.all(
    settled.map((s, i) => {
      const c = checks[i]!;
      if (s.status !== "fulfilled" || !s.value.allowed || c.cost <= 0) return undefined;
      return (
        store
          .check(c.key, c.limit, c.windowSeconds, -c.cost)
          // The key names a client or an account: only its tenant goes to the log.
          .catch((err: unknown) =>
            log("warn", "rate limit refund lost", { tenant: c.key.slice(0, c.key.indexOf(":")), error: String(err) }),
          )
      );
    }),
  );
  if (failed) throw failed.reason;
  return results;
}
