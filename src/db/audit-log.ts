import { sql, type SQL } from "drizzle-orm";
import type { TenantDb } from "./client";

/** The audit log has one shape in a tenant's DB and in the platform DB (for platform admin actions). */
export type AuditDb = Pick<TenantDb, "run" | "all">;

/**
 * The audit log (migrations/tenant/0033, migrations/platform/0003; docs/privacy.md, "Audit log"): append-only.
 * An entry is opened before its action runs and closed with the outcome; the schema refuses
 * every other change, and deleting anything younger than a day.
 */
export interface AuditEntry {
  id: string;
  at: number;
  actor: { type: "user" | "apiKey" | "platform"; id: string | null };
  action: string;
  target: { type: string | null; id: string | null };
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** Open entries are 'pending' until their action ends. */
  outcome: "pending" | "succeeded" | "failed";
  changes?: { before: unknown; after: unknown } | undefined;
  security?: boolean;
}

/** The INSERT of an entry, as a statement a batch can carry (the change it records beside it). */
export function auditInsert(db: AuditDb, e: AuditEntry) {
  return db.run(sql`INSERT INTO audit_log (id, at, actor_type, actor_id, action, target_type, target_id, ip,
    user_agent, request_id, changes, outcome, security)
    VALUES (${e.id}, ${e.at}, ${e.actor.type}, ${e.actor.id}, ${e.action}, ${e.target.type}, ${e.target.id}, ${e.ip},
      ${e.userAgent}, ${e.requestId}, ${e.changes === undefined ? null : JSON.stringify(e.changes)}, ${e.outcome},
      ${e.security ? 1 : 0})`);
}

/** Closes an open entry with its outcome, the target a create made and an edit's before/after. */
export async function closeAuditEntry(
  db: AuditDb,
  id: string,
  close: { outcome: "succeeded" | "failed"; targetId?: string | undefined; changes?: unknown },
): Promise<void> {
  await db.run(sql`UPDATE audit_log SET outcome = ${close.outcome},
    target_id = coalesce(target_id, ${close.targetId ?? null}),
    changes = coalesce(${close.changes === undefined ? null : JSON.stringify(close.changes)}, changes)
    WHERE id = ${id} AND outcome = 'pending'`);
}

export interface AuditFilter {
  actorId?: string | undefined;
  action?: string | undefined;
  targetId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  /** Only one account's security events. */
  securityOf?: string | undefined;
  /** Keyset: entries strictly before (at, id). */
  before?: [number, string] | undefined;
  limit: number;
}

interface Row {
  id: string;
  at: number;
  actor_type: AuditEntry["actor"]["type"];
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  changes: string | null;
  outcome: AuditEntry["outcome"];
}

/** A page of entries, newest first. */
export async function auditPage(db: AuditDb, f: AuditFilter): Promise<AuditEntry[]> {
  const where: SQL[] = [sql`1`];
  if (f.actorId !== undefined) where.push(sql`actor_id = ${f.actorId}`);
  if (f.action !== undefined) where.push(sql`action = ${f.action}`);
  if (f.targetId !== undefined) where.push(sql`target_id = ${f.targetId}`);
  if (f.from !== undefined) where.push(sql`at >= ${f.from}`);
  if (f.to !== undefined) where.push(sql`at < ${f.to}`);
  if (f.securityOf !== undefined) where.push(sql`security = 1 AND target_id = ${f.securityOf}`);
  if (f.before) where.push(sql`(at < ${f.before[0]} OR (at = ${f.before[0]} AND id < ${f.before[1]}))`);
  const rows = await db.all<Row>(
    sql`SELECT * FROM audit_log WHERE ${sql.join(where, sql` AND `)} ORDER BY at DESC, id DESC LIMIT ${f.limit}`,
  );
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: { type: r.actor_type, id: r.actor_id },
    action: r.action,
    target: { type: r.target_type, id: r.target_id },
    ip: r.ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    outcome: r.outcome,
    ...(r.changes === null ? {} : { changes: JSON.parse(r.changes) as AuditEntry["changes"] }),
  }));
}

/**
 * Deletes up to `limit` entries older than `before` (the retention sweep); how many. Never one
 * younger than a day by the database's clock, which the schema would refuse.
 */
export async function pruneAudit(db: AuditDb, before: number, limit: number): Promise<number> {
  const res = await db.run(sql`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log
    WHERE at < ${before} AND at < unixepoch('subsec') * 1000 - 86400000 ORDER BY at LIMIT ${limit})`);
  return res.rowsAffected;
}
