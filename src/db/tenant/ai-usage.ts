import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";

/**
 * Metered AI calls and their usage buckets (migrations/tenant/0026, docs/ai.md): one audit row
 * per call and a quarter-hour counter per user and feature, written together.
 */

/** Usage is counted per quarter hour, so local days are exact in every UTC offset. */
export const USAGE_BUCKET_MS = 15 * 60_000;

export interface CallRecord {
  id: string;
  /** Null for the tenant's own automatic work (counted under user ''). */
  userId: string | null;
  feature: string;
  provider: string;
  model: string | null;
  reserved: number;
  units: number;
  packUnits: number;
  inputTokens: number | null;
  outputTokens: number | null;
  status: "ok" | "degraded" | "aborted" | "error";
  startedAt: number;
  durationMs: number;
}

/** Records a call and adds it to its bucket, in one batch (a retry of the same id changes nothing). */
export async function recordCall(db: TenantDb, r: CallRecord): Promise<void> {
  const bucket = Math.floor(r.startedAt / USAGE_BUCKET_MS) * USAGE_BUCKET_MS;
  await db.batch([
    db.run(sql`INSERT INTO ai_calls (id, user_id, feature, provider, model, reserved, units, pack_units, input_tokens,
        output_tokens, status, started_at, duration_ms)
      VALUES (${r.id}, ${r.userId}, ${r.feature}, ${r.provider}, ${r.model}, ${r.reserved}, ${r.units}, ${r.packUnits},
        ${r.inputTokens}, ${r.outputTokens}, ${r.status}, ${r.startedAt}, ${r.durationMs})
      ON CONFLICT (id) DO NOTHING`),
    db.run(sql`INSERT INTO ai_usage_q (user_id, bucket, feature, units, calls)
      SELECT ${r.userId ?? ""}, ${bucket}, ${r.feature}, ${r.units}, 1 WHERE changes() = 1
      ON CONFLICT (user_id, bucket, feature) DO UPDATE SET units = units + excluded.units, calls = calls + 1`),
  ]);
}
