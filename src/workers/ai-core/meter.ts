import { recordCall } from "../../db/tenant/ai-usage";
import type { TenantScope } from "../gateway/context";
import { type GateRequest, hold, settle } from "./gate";

/** What a metered call reports when it ends. */
export interface CallOutcome<T = unknown> {
  result: T;
  /** Units it used (at most the estimate; more is cut to the estimate). */
  units: number;
  provider: string;
  model: string | null;
  status: "ok" | "degraded" | "aborted";
  inputTokens?: number;
  outputTokens?: number;
}

/** A call holding its estimate: `finish` settles it once and records it (null: it failed). */
export interface Metering {
  id: string;
  finish(outcome: Omit<CallOutcome, "result"> | null): Promise<void>;
}

/**
 * Holds a call's estimate (or throws `quota_exhausted` before anything runs) and answers how to
 * finish it: settle what it used and record the call and its usage bucket, in that order, before
 * `finish` resolves. For calls that outlive the handler (a streamed chat), which hold before their
 * first byte and finish when the stream ends; {@link metered} wraps the rest.
 */
export async function startMetered(
  s: TenantScope,
  req: GateRequest,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Metering> {
  const held = await hold(s, req, waitUntil);
  const started = Date.now();
  let finished = false;
  return {
    id: held.id,
    async finish(outcome) {
      if (finished) return;
      finished = true;
      const units = outcome ? Math.max(0, Math.min(outcome.units, req.estimate)) : 0;
      try {
        const { packUnits } = await settle(s, held, units, req.now);
        await recordCall(s.db, {
          id: held.id,
          userId: req.userId,
          feature: req.feature,
          provider: outcome?.provider ?? "none",
          model: outcome?.model ?? null,
          reserved: req.estimate,
          units,
          packUnits,
          inputTokens: outcome?.inputTokens ?? null,
          outputTokens: outcome?.outputTokens ?? null,
          status: outcome?.status ?? "error",
          startedAt: held.startedAt,
          durationMs: Date.now() - started,
        });
      } catch (err) {
        console.warn(JSON.stringify({ msg: "ai call settle failed", id: held.id, error: String(err) }));
      }
    },
  };
}

/**
 * Runs one AI call under the quota gate: holds the estimate (or throws `quota_exhausted` before
 * `run` starts), runs it, and settles and records what it used whatever happens, before
 * answering. A call that throws is settled as using nothing and recorded as an error.
 */
export async function metered<T>(
  s: TenantScope,
  req: GateRequest,
  waitUntil: (p: Promise<unknown>) => void,
  run: () => Promise<CallOutcome<T>>,
): Promise<T> {
  const m = await startMetered(s, req, waitUntil);
  let outcome: CallOutcome<T> | null = null;
  try {
    outcome = await run();
    return outcome.result;
  } finally {
    await m.finish(outcome);
  }
}
