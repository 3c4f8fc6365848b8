import { and, asc, desc, eq, inArray, or, sql } from "drizzle-orm";
import { after as afterKey, before as beforeKey } from "./keyset";
import type { TenantDb } from "../client";
import { reports, type ReportRow } from "./schema";

export type { ReportRow } from "./schema";
export type ReportTarget = ReportRow["targetType"];

/**
 * Files a report unless the reporter has one open on the item already (the partial unique index
 * decides, so racing duplicates make one row): the open report, and whether this call made it.
 */
export async function fileReport(db: TenantDb, row: ReportRow): Promise<{ report: ReportRow; created: boolean }> {
  const res = await db.run(sql`INSERT INTO reports
      (id, target_type, target_id, post_id, reporter_id, reason, detail, status, created_at)
    VALUES (${row.id}, ${row.targetType}, ${row.targetId}, ${row.postId}, ${row.reporterId}, ${row.reason},
      ${row.detail}, 'open', ${row.createdAt})
    ON CONFLICT (target_type, target_id, reporter_id) WHERE status = 'open' DO NOTHING`);
  const open = await db
    .select()
    .from(reports)
    .where(
      and(
        eq(reports.targetType, row.targetType),
        eq(reports.targetId, row.targetId),
        eq(reports.reporterId, row.reporterId),
        eq(reports.status, "open"),
      ),
    )
    .get();
  // The open report can only be gone if a moderator resolved it in between: answer ours as filed.
  return { report: open ?? row, created: res.rowsAffected === 1 };
}

export async function findReport(db: TenantDb, id: string): Promise<ReportRow | undefined> {
  return db.select().from(reports).where(eq(reports.id, id)).get();
}

/**
 * One page of the report queue: open reports oldest first (first come, first served), or
 * resolved ones newest first; keyset on (created_at, id).
 */
export async function reportPage(
  db: TenantDb,
  state: "open" | "resolved",
  limit: number,
  after?: [number, string],
): Promise<ReportRow[]> {
  const open = state === "open";
  const dir = open ? asc : desc;
  return db
    .select()
    .from(reports)
    .where(
      and(
        open ? eq(reports.status, "open") : inArray(reports.status, ["dismissed", "actioned"]),
        (open ? afterKey : beforeKey)(reports.createdAt, reports.id, after),
      ),
    )
    .orderBy(dir(reports.createdAt), dir(reports.id))
    .limit(limit)
    .all();
}

/** The statement that resolves every open report of an item with one outcome (for a moderation batch). */
export function resolveReportsSql(
  target: ReportTarget,
  targetId: string,
  outcome: "dismissed" | "actioned",
  by: string,
  now: number,
) {
  return sql`UPDATE reports SET status = ${outcome}, resolved_at = ${now}, resolved_by = ${by}
    WHERE target_type = ${target} AND target_id = ${targetId} AND status = 'open'`;
}
