import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
} from "cockatiel";
import { log } from "./log";
import { metrics } from "./metrics/recorder";

/** The dependencies Canopy guards (the `dependency` label of the breaker metrics). */
export type Dependency = "platform_db" | "tenant_db" | "webhook" | "upstash" | "ai" | "payments";
export type BreakerState = "closed" | "open" | "halfOpen";

export interface BreakerOptions {
  /** Failures in a row that open the breaker. */
  failures: number;
  /** How long it stays open before one probe call is let through. */
  halfOpenAfterMs: number;
}

/** Defaults per dependency (docs/operations.md, "Circuit breakers"). */
export const BREAKER_DEFAULTS: Record<Dependency, BreakerOptions> = {
  // Databases: a probe every second. Longer waits kept failing fast for seconds after a database
  // came back (the fault run's recovery check), and the gain is the same: one call a second per
  // isolate reaches a dead database instead of every request.
  platform_db: { failures: 5, halfOpenAfterMs: 1_000 },
  tenant_db: { failures: 5, halfOpenAfterMs: 1_000 },
  webhook: { failures: 5, halfOpenAfterMs: 60_000 },
  upstash: { failures: 5, halfOpenAfterMs: 5_000 },
  ai: { failures: 3, halfOpenAfterMs: 30_000 },
  payments: { failures: 5, halfOpenAfterMs: 10_000 },
};

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

/** One guarded dependency instance (a database, a webhook endpoint, a provider) in this isolate. */
export class Breaker {
  /** When the breaker lets its next probe through (set as it opens). */
  private probeAt = 0;
  /** When the newest call that failed under {@link guard} began: the age of the evidence it opens on. */
  failedCallStart = 0;
  /** When the breaker last closed after an outage (calls begun before then are stale). */
  closedAt = 0;
  /** When the latest call that succeeded began (calls begun before it that fail later are stale). */
  lastGoodStart = 0;
  lastError: { message: string; at: number } | null = null;
  readonly policy: CircuitBreakerPolicy;

  constructor(
    readonly dependency: Dependency,
    readonly key: string,
    readonly options: BreakerOptions,
    isFailure: (err: unknown) => boolean,
    private readonly failedResult?: (result: unknown) => boolean,
  ) {
    // A call that began before the breaker last closed, or before a call that has since
    // succeeded, says nothing about the dependency now: its failure (a request stuck on a
    // connection of the outage, failing late, after the dependency is back) does not count.
    const fresh = (err: unknown) => !(err instanceof StaleOutcome);
    const handled = failedResult
      ? handleWhen((e) => fresh(e) && isFailure(e)).orWhenResult(
          (r) => !(r as Timed).stale && failedResult((r as Timed).value),
        )
      : handleWhen((e) => fresh(e) && isFailure(e));
    this.policy = circuitBreaker(handled, {
      halfOpenAfter: this.probeWait(),
      breaker: new ConsecutiveBreaker(options.failures),
    });
    this.policy.onBreak(() => this.changed("open"));
    this.policy.onHalfOpen(() => this.changed("halfOpen"));
    this.policy.onReset(() => {
      this.closedAt = Date.now();
      this.changed("closed");
    });
    this.policy.onFailure(({ reason }) => {
      if ("error" in reason) this.lastError = { message: String(reason.error), at: Date.now() };
    });
  }

  /**
   * How long an open breaker waits before its probe: `halfOpenAfterMs` from the start of the
   * newest call that failed, not from when its failure came in. Calls stuck in an outage fail
   * late (a timeout, seconds after they began): the dependency may have been back for a while,
   * and waiting a whole interval more only turns requests away.
   */
  private probeWait(): IBackoffFactory<unknown> {
    const next = (): IBackoff<unknown> => {
      const now = Date.now();
      // Breakers used through their policy alone (the AI one) record no starts: the whole wait.
      const since = this.failedCallStart > 0 ? this.failedCallStart : now;
      const duration = Math.max(0, this.options.halfOpenAfterMs - (now - since));
      this.probeAt = now + duration;
      return { duration, next };
    };
    return { next };
  }

  /** Whether an answer counts as the dependency failing (a 5xx, for HTTP dependencies). */
  failed(result: unknown): boolean {
    return this.failedResult?.(result) ?? false;
  }

  /**
   * The state a call would meet now: cockatiel moves to half-open lazily (on the first call
   * after `halfOpenAfter`), so an open breaker past its wait reads as half-open here.
   */
  get state(): BreakerState {
    const s = this.policy.state;
    if (s === CircuitState.Closed) return "closed";
    if (s === CircuitState.HalfOpen) return "halfOpen";
    return Date.now() >= this.probeAt ? "halfOpen" : "open";
  }

  /** Seconds until an open breaker lets a probe through (at least 1). */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.probeAt - Date.now()) / 1000));
  }

  private changed(state: BreakerState): void {
    log(state === "open" ? "warn" : "info", `circuit ${state}`, { dependency: this.dependency, key: this.key });
    metrics.add("canopy_circuit_transitions_total", { dependency: this.dependency, state });
    reportWorst(this.dependency);
  }
}

const MAX_BREAKERS = 2000;
const breakers = new Map<string, Breaker>();

/** The isolate's worst state for a dependency, as the gauge the aggregator keeps per isolate. */
function reportWorst(dependency: Dependency): void {
  let worst = 0;
  for (const b of breakers.values()) if (b.dependency === dependency) worst = Math.max(worst, STATE_VALUE[b.state]);
  metrics.set("canopy_circuit_state", { dependency }, worst);
}

/**
 * The breaker of one dependency instance (`key`: a database URL, an endpoint's origin), made on
 * first use. Per isolate: a breaker costs no round trip, and each isolate learns of an outage
 * within `failures` calls. The least recently made are forgotten past 2,000.
 */
export function breakerFor(
  dependency: Dependency,
  key: string,
  isFailure: (err: unknown) => boolean,
  opts: { options?: BreakerOptions; failedResult?: (result: unknown) => boolean } = {},
): Breaker {
  const id = `${dependency}\u0000${key}`;
  const hit = breakers.get(id);
  if (hit) return hit;
  const b = new Breaker(dependency, key, opts.options ?? BREAKER_DEFAULTS[dependency], isFailure, opts.failedResult);
  breakers.set(id, b);
  if (breakers.size > MAX_BREAKERS) breakers.delete(breakers.keys().next().value!);
  return b;
}

/** What a guarded call throws while its breaker is open: the gateway answers 503 with Retry-After. */
export class CircuitOpenError extends Error {
  override readonly name = "CircuitOpenError";
  constructor(
    readonly dependency: Dependency,
    readonly retryAfterSeconds: number,
  ) {
    super(`${dependency} is unavailable (circuit open); retry in ${retryAfterSeconds} s`);
  }
}

/** The open breaker's error anywhere in a cause chain (the libSQL client may wrap fetch's error). */
export function openCircuitIn(err: unknown): CircuitOpenError | undefined {
  for (let e: unknown = err, i = 0; i < 8 && e instanceof Error; i++, e = e.cause)
    if (e instanceof CircuitOpenError) return e;
  return undefined;
}

/**
 * Runs `call` under a dependency's breaker: what it answers or throws, or {@link CircuitOpenError}
 * at once while the breaker is open.
 */
export async function guard<T>(breaker: Breaker, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const started = Date.now();
  const stale = () => started < breaker.closedAt || started < breaker.lastGoodStart;
  try {
    const out = await breaker.policy.execute(async ({ signal }): Promise<Timed> => {
      let value: unknown;
      try {
        value = await call(signal);
      } catch (err) {
        if (stale()) throw new StaleOutcome(err);
        breaker.failedCallStart = Math.max(breaker.failedCallStart, started);
        throw err;
      }
      const old = stale();
      if (!old && breaker.failed(value)) breaker.failedCallStart = Math.max(breaker.failedCallStart, started);
      return { value, stale: old };
    });
    if (!breaker.failed(out.value)) breaker.lastGoodStart = Math.max(breaker.lastGoodStart, started);
    return out.value as T;
  } catch (err) {
    if (err instanceof StaleOutcome) throw err.cause;
    if (!(err instanceof BrokenCircuitError)) throw err;
    // Half-open: one probe is in flight. A probe can hang for a dependency's whole timeout (a
    // connection blackholed during the outage), so the calls behind it go through as they are
    // rather than failing fast past the dependency's recovery; only the probe decides the state.
    if (breaker.policy.state === CircuitState.HalfOpen) return call(new AbortController().signal);
    throw new CircuitOpenError(breaker.dependency, breaker.retryAfterSeconds);
  }
}

/** A guarded call's answer, and whether the call began before the breaker last closed. */
interface Timed {
  value: unknown;
  stale: boolean;
}

/** The error of a stale call, carried through the breaker without counting as a failure. */
class StaleOutcome extends Error {
  constructor(cause: unknown) {
    super("stale outcome", { cause });
  }
}

/** Every breaker of this isolate (GET /readyz). */
export function breakerStates(): { dependency: Dependency; key: string; state: BreakerState }[] {
  return [...breakers.values()].map((b) => ({ dependency: b.dependency, key: b.key, state: b.state }));
}
