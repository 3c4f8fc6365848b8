import {
  BrokenCircuitError,
  ExponentialBackoff,
  handleWhen,
  type IPolicy,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from "cockatiel";
import { ProviderError } from "../../lib/ai/provider";
import { type Breaker, type BreakerState, breakerFor } from "../../lib/breakers";

export type { BreakerState };

/**
 * Every provider call runs under a policy of its own per isolate, tenant, provider and feature
 * (docs/ai.md, Resilience; cockatiel): one retry after 100 ms for transient failures, a circuit
 * breaker that opens after `failures` transient failures in a row and lets one probe through
 * after `halfOpenAfterMs`, and a hard timeout. A provider's 4xx (a bad key, an unknown model) is
 * the tenant's configuration: not retried, and it does not open the breaker. Per isolate, so a
 * breaker costs no round trip; each isolate learns within `failures` calls.
 */

interface Entry {
  policy: IPolicy;
  breaker: Breaker;
}

const MAX_POLICIES = 1000;
const policies = new Map<string, Entry>();

/** Transient failures: what a retry or the breaker should act on (timeouts included). */
const isTransient = (e: unknown): boolean =>
  (e instanceof ProviderError && e.transient) || e instanceof TaskCancelledError;

function entryFor(key: string, opts: { failures: number; halfOpenAfterMs: number; timeoutMs: number }): Entry {
  const id = `${key}|${opts.failures}|${opts.halfOpenAfterMs}|${opts.timeoutMs}`;
  const hit = policies.get(id);
  if (hit) return hit;
  // The breaker is the shared module's (src/lib/breakers.ts: one registry, state changes logged
  // and counted); retry and timeout are this module's own.
  const breaker = breakerFor("ai", id, isTransient, {
    options: { failures: opts.failures, halfOpenAfterMs: opts.halfOpenAfterMs },
  });
  const retrying = retry(
    handleWhen((e) => e instanceof ProviderError && e.transient),
    { maxAttempts: 1, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1_000 }) },
  );
  const entry: Entry = {
    policy: wrap(retrying, breaker.policy, timeout(opts.timeoutMs, TimeoutStrategy.Aggressive)),
    breaker,
  };
  policies.set(id, entry);
  if (policies.size > MAX_POLICIES) policies.delete(policies.keys().next().value!);
  return entry;
}

/**
 * Runs `call` under the policy of `key` (`<tenant>:<provider>:<feature>`). Throws what the call
 * threw, a `BrokenCircuitError` while the breaker is open, or a `TaskCancelledError` on timeout;
 * {@link isUnavailable} says which of those mean "degrade".
 */
export async function guarded<T>(
  key: string,
  opts: { failures: number; halfOpenAfterMs: number; timeoutMs: number },
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const entry = entryFor(key, opts);
  try {
    return await entry.policy.execute(({ signal }) => call(signal));
  } catch (err) {
    if (!(err instanceof BrokenCircuitError)) {
      entry.breaker.lastError = { message: err instanceof Error ? err.message : String(err), at: Date.now() };
    }
    throw err;
  }
}

/** Whether a failure of a guarded call is the provider being unavailable (so the feature degrades). */
export const isUnavailable = (err: unknown): boolean =>
  err instanceof BrokenCircuitError || err instanceof TaskCancelledError || err instanceof ProviderError;

/** This isolate's view of a policy: the breaker state and the last error (null when never used). */
export function breakerView(key: string): { breaker: BreakerState; lastError: { message: string; at: number } | null } {
  for (const [id, e] of policies)
    if (id.startsWith(`${key}|`)) return { breaker: e.breaker.state, lastError: e.breaker.lastError };
  return { breaker: "closed", lastError: null };
}
