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
   * Several checks as one, all or nothing: when every check fits, each takes its units; when any
   * is refused, none does (the refused ones say `allowed: false`; the others say whether they
   * would have fit). A batch of refunds always applies. Results in the order of `checks`.
   */
  checkAll(checks: readonly RateCheck[]): Promise<RateLimitResult[]>;
}

/**
 * {@link RateLimitStore.checkAll} from single checks, for keys no one call can cover: all at
 * once, then the units taken handed back when any check was refused or failed (a failure is
 * thrown after that). Two such batches racing can refuse each other where one call would not;
 * they never admit more than a limit.
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
