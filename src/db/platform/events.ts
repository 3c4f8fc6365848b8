import { and, desc, eq, isNotNull, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { PlatformDb } from "../client";
import { deadLetters, queueStats, type DeadLetterRow } from "./schema";

export type NewDeadLetter = Omit<DeadLetterRow, "replayedAt" | "replayCount">;

/** Stores dead letters; one row per dead-letter message id, so a redelivery is a no-op. */
export async function insertDeadLetters(db: PlatformDb, rows: NewDeadLetter[]): Promise<void> {
  if (rows.length)
    await db
      .insert(deadLetters)
      .values(rows.map((r) => ({ ...r, replayCount: 0 })))
      .onConflictDoNothing()
      .run();
}

export interface DeadLetterFilter {
  queue?: string | undefined;
  tenantId?: string | undefined;
  status?: "pending" | "replayed" | undefined;
  before?: string | undefined;
  limit: number;
}

/** Newest first; `before` is the id of the previous page's last row. */
export async function listDeadLetters(db: PlatformDb, f: DeadLetterFilter): Promise<DeadLetterRow[]> {
  const conds: SQL[] = [];
  if (f.queue) conds.push(eq(deadLetters.queue, f.queue));
  if (f.tenantId) conds.push(eq(deadLetters.tenantId, f.tenantId));
  if (f.status === "pending") conds.push(isNull(deadLetters.replayedAt));
  if (f.status === "replayed") conds.push(isNotNull(deadLetters.replayedAt));
  if (f.before) conds.push(lt(deadLetters.id, f.before));
  return db
    .select()
    .from(deadLetters)
    .where(and(...conds))
    .orderBy(desc(deadLetters.id))
    .limit(f.limit)
    .all();
}

export async function findDeadLetter(db: PlatformDb, id: string): Promise<DeadLetterRow | undefined> {
  return db.select().from(deadLetters).where(eq(deadLetters.id, id)).get();
}

export async function markReplayed(db: PlatformDb, id: string, now: number): Promise<DeadLetterRow | undefined> {
  return db
    .update(deadLetters)
    .set({ replayedAt: now, replayCount: sql`${deadLetters.replayCount} + 1` })
    .where(eq(deadLetters.id, id))
    .returning()
    .get();
}

export async function pendingDeadLetterCounts(db: PlatformDb): Promise<Record<string, number>> {
  const rows = await db
    .select({ queue: deadLetters.queue, n: sql<number>`count(*)` })
    .from(deadLetters)
    .where(isNull(deadLetters.replayedAt))
    .groupBy(deadLetters.queue)
    .all();
  return Object.fromEntries(rows.map((r) => [r.queue ?? "unknown", r.n]));
}

export interface BatchFigures {
  queue: string;
  processed: number;
  retried: number;
  deadLettered: number;
  size: number;
  lagMs: number;
  at: number;
}

/** Adds one batch's figures to its queue's row. */
export async function recordBatch(db: PlatformDb, b: BatchFigures): Promise<void> {
  await db
    .insert(queueStats)
    .values({
      queue: b.queue,
      processed: b.processed,
      retried: b.retried,
      deadLettered: b.deadLettered,
      lastBatchAt: b.at,
      lastBatchSize: b.size,
      lastLagMs: b.lagMs,
      maxLagMs: b.lagMs,
    })
    .onConflictDoUpdate({
      target: queueStats.queue,
      set: {
        processed: sql`${queueStats.processed} + ${b.processed}`,
        retried: sql`${queueStats.retried} + ${b.retried}`,
        deadLettered: sql`${queueStats.deadLettered} + ${b.deadLettered}`,
        lastBatchAt: b.at,
        lastBatchSize: b.size,
        lastLagMs: b.lagMs,
        maxLagMs: sql`max(${queueStats.maxLagMs}, ${b.lagMs})`,
      },
    })
    .run();
}

export async function allQueueStats(db: PlatformDb) {
  return db.select().from(queueStats).orderBy(queueStats.queue).all();
}
