import { recordCall } from "../../db/tenant/ai-usage";
import type { TenantScope } from "../gateway/context";
import { hold, settle, type GateRequest } from "./gate";

/** What a metered call reports when it ends. */
export interface CallOutcome<T> {
  result: T;
  /** Units it used (at most the estimate; more is cut to the estimate). */
  units: number;
  provider: string;
  model: string | null;
  status: "ok" | "degraded" | "aborted";
  inputTokens?: number;
  outputTokens?: number;
}

/**
 * Runs one AI call under the quota gate: holds the estimate (or throws `quota_exhausted` before
 * `run` starts), runs it, settles what it used whatever happens, and records the call and its
 * usage bucket after the response (`waitUntil`). A call that throws settles nothing used and is
 * recorded as an error.
 */
export async function metered<T>(
  s: TenantScope,
  req: GateRequest,
  waitUntil: (p: Promise<unknown>) => void,
  run: () => Promise<CallOutcome<T>>,
): Promise<T> {
  const held = await hold(s, req, waitUntil);
  const started = Date.now();
  let outcome: CallOutcome<T> | null = null;
  try {
    outcome = await run();
    return outcome.result;
  } finally {
    const units = outcome ? Math.min(outcome.units, req.estimate) : 0;
    const done = settle(s, held, units, req.now).then(({ packUnits }) =>
      recordCall(s.db, {
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
      }),
    );
    // The settle must land before the quota is read again by the same user; the record may follow.
    await done.catch((err) => {
      console.warn(JSON.stringify({ msg: "ai call settle failed", id: held.id, error: String(err) }));
    });
  }
}
