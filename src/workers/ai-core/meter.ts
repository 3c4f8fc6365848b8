import { recordCall } from "../../db/tenant/ai-usage";
import type { TenantScope } from "../gateway/context";
import { type GateRequest, hold, packShare, settle } from "./gate";
import { AppError } from "../../lib/errors";
import { metrics } from "../../lib/metrics/recorder";

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
  const held = await hold(s, req, waitUntil).catch((err: unknown) => {
    if (err instanceof AppError && err.code === "quota_exhausted")
      metrics.add("canopy_ai_calls_total", { provider: "none", outcome: "refused" }, 1, s.tenant.id);
    throw err;
  });
  const started = Date.now();
  let finished = false;
  return {
    id: held.id,
    async finish(outcome) {
      if (finished) return;
      finished = true;
      metrics.add(
        "canopy_ai_calls_total",
        { provider: outcome?.provider ?? "none", outcome: outcome?.status ?? "error" },
        1,
        s.tenant.id,
      );
      const units = outcome ? Math.max(0, Math.min(outcome.units, req.estimate)) : 0;
      // Before settling: a settled part is cleared from `held`.
      const packUnits = packShare(held, units);
      const record = async () => {
        await settle(s, held, units, req.now);
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
      };
      try {
        await record();
      } catch (err) {
        console.warn(JSON.stringify({ msg: "ai call settle failed, retrying", id: held.id, error: String(err) }));
        waitUntil(retrySettle(held.id, record, held.startedAt + req.ttlMs - SETTLE_MARGIN_MS));
      }
    },
  };
}

/** A settle retried in the background stops this long before its holds would expire. */
const SETTLE_MARGIN_MS = 5_000;
const SETTLE_BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

/**
 * Retries a failed settle (a database restart, an object reset) until it succeeds or its holds
 * are about to expire: the call ran, so its charge must land before an expiry gives its units
 * back. Settling is idempotent (gate.ts, ai_calls' key), so a retry after a half-done try only
 * finishes it. A Worker that dies meanwhile leaves the holds to expire (docs/ai.md, the bound).
 */
async function retrySettle(id: string, record: () => Promise<void>, until: number): Promise<void> {
  for (let i = 0; ; i++) {
    const wait = SETTLE_BACKOFF_MS[Math.min(i, SETTLE_BACKOFF_MS.length - 1)]!;
    if (Date.now() + wait > until) break;
    await new Promise((r) => setTimeout(r, wait));
    try {
      await record();
      return;
    } catch (err) {
      if (i === 0 || Date.now() + wait > until)
        console.warn(JSON.stringify({ msg: "ai call settle retry failed", id, error: String(err) }));
    }
  }
  console.error(JSON.stringify({ msg: "ai call settle abandoned: its holds expire", id }));
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
