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

export interface UsageRow {
  bucket: number;
  feature: string;
  units: number;
  calls: number;
}

/** A user's usage in `[from, to)` by quarter hour and feature. */
export function userUsageQuery(db: TenantDb, userId: string, from: number, to: number) {
  return db.all<UsageRow>(sql`SELECT bucket, feature, units, calls FROM ai_usage_q
    WHERE user_id = ${userId} AND bucket >= ${from} AND bucket < ${to} ORDER BY bucket`);
}

/** A user's total units in `[from, to)`. */
export async function userUnits(db: TenantDb, userId: string, from: number, to: number): Promise<number> {
  const [row] = await db.all<{ units: number | null }>(sql`SELECT sum(units) AS units FROM ai_usage_q
    WHERE user_id = ${userId} AND bucket >= ${from} AND bucket < ${to}`);
  return row?.units ?? 0;
}

/**
 * Totals per user and feature in `[from, to)`, keyset-paged on (user_id, feature); user '' is the
 * tenant's own automatic work.
 */
export function usageTotalsPage(
  db: TenantDb,
  q: {
    from: number;
    to: number;
    userId?: string | undefined;
    feature?: string | undefined;
    after?: [string, string];
    limit: number;
  },
) {
  const who = q.userId === undefined ? sql`` : sql`AND user_id = ${q.userId}`;
  const what = q.feature === undefined ? sql`` : sql`AND feature = ${q.feature}`;
  const after = q.after ? sql`AND (user_id, feature) > (${q.after[0]}, ${q.after[1]})` : sql``;
  return db.all<{ userId: string; feature: string; units: number; calls: number }>(sql`
    SELECT user_id AS userId, feature, sum(units) AS units, sum(calls) AS calls FROM ai_usage_q
    WHERE bucket >= ${q.from} AND bucket < ${q.to} ${who} ${what} ${after}
    GROUP BY user_id, feature ORDER BY user_id, feature LIMIT ${q.limit}`);
}

/** Raw buckets in `[from, to)` for the CSV export, keyset-paged on (bucket, user_id, feature). */
export function usageExportPage(
  db: TenantDb,
  q: { from: number; to: number; after?: [number, string, string] | undefined; limit: number },
) {
  const after = q.after ? sql`AND (bucket, user_id, feature) > (${q.after[0]}, ${q.after[1]}, ${q.after[2]})` : sql``;
  return db.all<{ bucket: number; userId: string; feature: string; units: number; calls: number }>(sql`
    SELECT bucket, user_id AS userId, feature, units, calls FROM ai_usage_q
    WHERE bucket >= ${q.from} AND bucket < ${q.to} ${after}
    ORDER BY bucket, user_id, feature LIMIT ${q.limit}`);
}
