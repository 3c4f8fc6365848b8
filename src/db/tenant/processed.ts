import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";
import { isConstraintViolation } from "../constraint";

/**
 * Applies a consumer's effect for one event exactly once. The marker row (consumer, event id)
 * and the effect's statements commit in one transaction: a redelivered event hits the marker's
 * primary key, the whole transaction rolls back, and the caller learns it was a repeat. This is
 * what keeps counters exact and inbox entries single under at-least-once delivery.
 */
export async function applyOnce(
  db: TenantDb,
  consumer: string,
  eventId: string,
  effect: BatchItem<"sqlite">[],
  now = Date.now(),
): Promise<boolean> {
  return (await applyOnceReturning(db, consumer, eventId, effect, now)) !== null;
}

/** {@link applyOnce} that answers the effect statements' results (null for a repeat). */
export async function applyOnceReturning(
  db: TenantDb,
  consumer: string,
  eventId: string,
  effect: BatchItem<"sqlite">[],
  now = Date.now(),
): Promise<unknown[] | null> {
  try {
    const [, ...results] = await db.batch([
      db.run(
        sql`INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (${consumer}, ${eventId}, ${now})`,
      ),
      ...effect,
    ]);
    return results;
  } catch (err) {
    if (isConstraintViolation(err) && (await alreadyApplied(db, consumer, eventId))) return null;
    throw err;
  }
}

/** Whether an event was already applied by a consumer (for effects outside the tenant DB). */
export async function alreadyApplied(db: TenantDb, consumer: string, eventId: string): Promise<boolean> {
  const rows = await db.all<{ one: number }>(
    sql`SELECT 1 AS one FROM processed_events WHERE consumer = ${consumer} AND event_id = ${eventId}`,
  );
  return rows.length > 0;
}

/** Forgets markers older than `before` (redelivery and dead-letter replay windows are shorter). */
export async function pruneProcessed(db: TenantDb, before: number): Promise<number> {
  const r = await db.run(sql`DELETE FROM processed_events WHERE processed_at < ${before}`);
  return r.rowsAffected;
}
