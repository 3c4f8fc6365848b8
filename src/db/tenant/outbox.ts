import { inArray, sql, type SQL } from "drizzle-orm";
import type { OutboxEvent } from "../../lib/outbox-event";
import { newId } from "../../lib/ids";
import type { TenantDb } from "../client";
import { outbox } from "./schema";

/** A domain event as written to the outbox; published as a CloudEvent by the event pipeline. */
export interface DomainEvent {
  type: string;
  subject?: string;
  data: Record<string, unknown>;
  traceparent?: string | undefined;
}

/**
 * The INSERT for one outbox row, to be put in the same batch/transaction as the change it
 * describes, so the event exists if and only if the change committed.
 */
export function outboxInsert(db: TenantDb, e: DomainEvent, now = Date.now()) {
  return db.insert(outbox).values({
    id: newId(now),
    type: e.type,
    subject: e.subject ?? null,
    data: JSON.stringify(e.data),
    traceparent: e.traceparent ?? null,
    createdAt: now,
  });
}

/**
 * {@link outboxInsert} that writes the row only if `condition` holds when it runs (an SQL boolean
 * over the same transaction's state): for an event that must exist if and only if a guarded
 * change in the same batch applied.
 */
export function outboxInsertIf(db: TenantDb, e: DomainEvent, condition: SQL, now = Date.now()) {
  return db.run(sql`
    INSERT INTO outbox (id, type, subject, data, traceparent, created_at)
    SELECT ${newId(now)}, ${e.type}, ${e.subject ?? null}, ${JSON.stringify(e.data)}, ${e.traceparent ?? null}, ${now}
    WHERE ${condition}`);
}

interface ClaimedRow {
  id: string;
  type: string;
  subject: string | null;
  data: string;
  traceparent: string | null;
  created_at: number;
}

/**
 * Claims up to `limit` unpublished rows created at or before `createdBefore` for `leaseMs`, in
 * one statement, and returns them oldest first. A row whose lease ran out (its publisher died
 * between claim and confirm) is claimable again.
 */
export async function claimUnpublished(
  db: TenantDb,
  now: number,
  opts: { limit: number; leaseMs: number; createdBefore: number },
): Promise<OutboxEvent[]> {
  const rows = await db.all<ClaimedRow>(sql`
    UPDATE outbox SET claimed_until = ${now + opts.leaseMs}
    WHERE id IN (
      SELECT id FROM outbox
      WHERE published_at IS NULL AND created_at <= ${opts.createdBefore} AND (claimed_until IS NULL OR claimed_until <= ${now})
      ORDER BY created_at, id LIMIT ${opts.limit})
    RETURNING id, type, subject, data, traceparent, created_at`);
  return rows
    .map((r) => ({
      id: r.id,
      type: r.type,
      subject: r.subject,
      data: JSON.parse(r.data) as Record<string, unknown>,
      time: r.created_at,
      traceparent: r.traceparent,
    }))
    .sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1));
}

/** Confirms rows as published (the queues accepted them). */
export async function markPublished(db: TenantDb, ids: string[], now: number): Promise<void> {
  if (ids.length) await db.update(outbox).set({ publishedAt: now, claimedUntil: null }).where(inArray(outbox.id, ids));
}

/** Backlog facts for operators: unpublished rows and the age of the oldest. */
export async function outboxBacklog(
  db: TenantDb,
  now: number,
): Promise<{ unpublished: number; oldestAgeMs: number | null }> {
  const [row] = await db.all<{ n: number; oldest: number | null }>(
    sql`SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE published_at IS NULL`,
  );
  return { unpublished: row?.n ?? 0, oldestAgeMs: row?.oldest == null ? null : now - row.oldest };
}

/** Drops published rows older than `before` (the outbox is a buffer, not an archive). */
export async function prunePublished(db: TenantDb, before: number): Promise<number> {
  const r = await db.run(sql`DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ${before}`);
  return r.rowsAffected;
}
