import { and, asc, desc, eq, inArray, lt, lte, sql } from "drizzle-orm";
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { TenantDb } from "../client";
import { endpointFailed, endpointSucceeded, webhookEndpoints } from "./webhooks";

/** drizzle view of the delivery tables (DDL: migrations/tenant/0009_webhooks.sql). */
export const webhookDeliveries = sqliteTable("webhook_deliveries", {
  id: text("id").primaryKey(),
  endpointId: text("endpoint_id").notNull(),
  eventId: text("event_id").notNull(),
  eventType: text("event_type").notNull(),
  payload: text("payload").notNull(),
  status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
  attempts: integer("attempts").notNull(),
  nextAttemptAt: integer("next_attempt_at"),
  lastAttemptAt: integer("last_attempt_at"),
  lastResponseStatus: integer("last_response_status"),
  lastError: text("last_error"),
  lastDurationMs: integer("last_duration_ms"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  /** The carried event's W3C traceparent (migrations/tenant/0035). */
  traceparent: text("traceparent"),
});
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    deliveryId: text("delivery_id").notNull(),
    n: integer("n").notNull(),
    trigger: text("trigger", { enum: ["event", "retry", "manual", "test"] }).notNull(),
    attemptedAt: integer("attempted_at").notNull(),
    responseStatus: integer("response_status"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.n] })],
);
export type WebhookAttemptRow = typeof webhookAttempts.$inferSelect;
export type AttemptTrigger = WebhookAttemptRow["trigger"];

export interface NewDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  payload: string;
  traceparent: string | null;
  /** Now + a lease when the caller attempts it right away; now to leave it to the sweeper. */
  nextAttemptAt: number;
}

/**
 * Inserts the deliveries of one event. Answers only the rows that are new: for a redelivered
 * event the unique (endpoint, event) key keeps the existing rows, and the sweeper owns their retries.
 */
export async function insertDeliveries(db: TenantDb, rows: NewDelivery[], now: number): Promise<WebhookDeliveryRow[]> {
  if (!rows.length) return [];
  return db
    .insert(webhookDeliveries)
    .values(rows.map((r) => ({ ...r, status: "pending" as const, attempts: 0, createdAt: now, updatedAt: now })))
    .onConflictDoNothing({ target: [webhookDeliveries.endpointId, webhookDeliveries.eventId] })
    .returning()
    .all();
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints, oldest due first, by pushing their
 * `next_attempt_at` forward by the lease (one statement): a sweeper running concurrently, or a
 * later one while these are in flight, does not pick them again. A claimer that dies leaves
 * them due again once the lease runs out.
 */
export async function claimDue(
  db: TenantDb,
  now: number,
  opts: { limit: number; leaseMs: number },
): Promise<WebhookDeliveryRow[]> {
  const due = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(
      and(
        eq(webhookDeliveries.status, "pending"),
        lte(webhookDeliveries.nextAttemptAt, now),
        eq(webhookEndpoints.status, "enabled"),
      ),
    )
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(opts.limit);
  return db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: now + opts.leaseMs })
    .where(inArray(webhookDeliveries.id, due))
    .returning()
    .all();
}

/** Claims one delivery of an endpoint for a manual attempt (whatever its status). */
export async function claimForManualRetry(
  db: TenantDb,
  endpointId: string,
  id: string,
  now: number,
  leaseMs: number,
): Promise<WebhookDeliveryRow | undefined> {
  return db
    .update(webhookDeliveries)
    .set({ status: "pending", nextAttemptAt: now + leaseMs, updatedAt: now })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.endpointId, endpointId)))
    .returning()
    .get();
}

export interface AttemptOutcome {
  deliveryId: string;
  endpointId: string;
  trigger: AttemptTrigger;
  at: number;
  ok: boolean;
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
  /** For a failure: when to try again, or null when the delivery has no attempts left. */
  nextAttemptAt: number | null;
}

/**
 * Records one attempt in one transaction: the delivery's counters and status, the attempt row
 * (numbered from the delivery's own counter, so two attempts never share a number) and the
 * endpoint's failure run. Answers the delivery as it now is and, for a failure, the run.
 */
export async function recordAttempt(
  db: TenantDb,
  o: AttemptOutcome,
): Promise<{
  delivery: WebhookDeliveryRow | undefined;
  run: { consecutiveFailures: number; failingSince: number | null; status: string } | undefined;
}> {
  const status = o.ok ? "succeeded" : o.nextAttemptAt === null ? "failed" : "pending";
  const [updated, , run] = await db.batch([
    db
      .update(webhookDeliveries)
      .set({
        status,
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        nextAttemptAt: o.ok ? null : o.nextAttemptAt,
        lastAttemptAt: o.at,
        lastResponseStatus: o.responseStatus,
        lastError: o.error,
        lastDurationMs: o.durationMs,
        updatedAt: o.at,
      })
      .where(eq(webhookDeliveries.id, o.deliveryId))
      .returning(),
    db.run(sql`INSERT INTO webhook_attempts (delivery_id, n, trigger, attempted_at, response_status, error, duration_ms)
      SELECT id, attempts, ${o.trigger}, ${o.at}, ${o.responseStatus}, ${o.error}, ${o.durationMs} FROM webhook_deliveries WHERE id = ${o.deliveryId}`),
    o.ok
      ? endpointSucceeded(db, o.endpointId, o.at).returning({
          consecutiveFailures: webhookEndpoints.consecutiveFailures,
          failingSince: webhookEndpoints.failingSince,
          status: webhookEndpoints.status,
        })
      : endpointFailed(db, o.endpointId, o.at),
  ]);
  return { delivery: updated[0], run: run[0] };
}

/** Newest first, optionally of one status; `before` is the previous page's last id. */
export async function listDeliveries(
  db: TenantDb,
  endpointId: string,
  q: { status?: WebhookDeliveryRow["status"] | undefined; before?: string | undefined; limit: number },
): Promise<WebhookDeliveryRow[]> {
  const conds = [eq(webhookDeliveries.endpointId, endpointId)];
  if (q.status) conds.push(eq(webhookDeliveries.status, q.status));
  if (q.before) conds.push(lt(webhookDeliveries.id, q.before));
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(...conds))
    .orderBy(desc(webhookDeliveries.id))
    .limit(q.limit)
    .all();
}

export async function findDelivery(
  db: TenantDb,
  endpointId: string,
  id: string,
): Promise<WebhookDeliveryRow | undefined> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.endpointId, endpointId)))
    .get();
}

export async function attemptsOf(db: TenantDb, deliveryId: string): Promise<WebhookAttemptRow[]> {
  return db
    .select()
    .from(webhookAttempts)
    .where(eq(webhookAttempts.deliveryId, deliveryId))
    .orderBy(asc(webhookAttempts.n))
    .all();
}

/**
 * Drops deliveries (and their attempts) created before `before`: finished ones, and pending ones
 * of an endpoint that stayed disabled that long (an event that old is no use to anyone).
 */
export async function pruneDeliveries(db: TenantDb, before: number): Promise<number> {
  const [, res] = await db.batch([
    db.run(
      sql`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE created_at < ${before})`,
    ),
    db.run(sql`DELETE FROM webhook_deliveries WHERE created_at < ${before}`),
  ]);
  return res.rowsAffected;
}
