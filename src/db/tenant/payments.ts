import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";
import { postingOps } from "./ledger";
import { outboxInsertIf, type DomainEvent } from "./outbox";
import { paymentProviders, type TopUpRow, topUps } from "./schema";

/**
 * Payments (migrations/tenant/0022, docs/commerce.md): the tenant's providers, top-ups, and
 * crediting a top-up when its provider confirms it. The credit is idempotent by state, not by
 * request: whatever events arrive, in whatever order and however often, a succeeded top-up
 * has exactly one `top_up` transaction.
 */

export type ProviderName = "stripe" | "sandbox";

/** A provider's row: which is active, its public settings and its sealed secrets. */
export async function providerRows(db: TenantDb) {
  return db.select().from(paymentProviders);
}

/** Creates or updates a provider's row; `active` makes it the one (and the others inactive) in one batch. */
export async function putProvider(
  db: TenantDb,
  p: { provider: ProviderName; active?: boolean | undefined; settings: string; sealed: string | null },
  now: number,
): Promise<void> {
  const ops: BatchItem<"sqlite">[] = [];
  if (p.active) ops.push(db.run(sql`UPDATE payment_providers SET active = 0 WHERE provider <> ${p.provider}`));
  ops.push(
    db.run(sql`INSERT INTO payment_providers (provider, active, settings, sealed, updated_at)
      VALUES (${p.provider}, ${p.active ? 1 : 0}, ${p.settings}, ${p.sealed}, ${now})
      ON CONFLICT (provider) DO UPDATE SET
        active = CASE WHEN ${p.active === undefined ? 1 : 0} THEN active ELSE excluded.active END,
        settings = excluded.settings, sealed = excluded.sealed, updated_at = excluded.updated_at`),
  );
  await db.batch(ops as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}

/** Stores a provider's first row if none exists (the sandbox's generated secret); the row as it is after. */
export async function ensureProvider(
  db: TenantDb,
  p: { provider: ProviderName; settings: string; sealed: string },
  now: number,
) {
  const [, rows] = await db.batch([
    db.run(sql`INSERT INTO payment_providers (provider, active, settings, sealed, updated_at)
      VALUES (${p.provider}, 0, ${p.settings}, ${p.sealed}, ${now}) ON CONFLICT (provider) DO NOTHING`),
    db.select().from(paymentProviders).where(eq(paymentProviders.provider, p.provider)),
  ]);
  return rows[0]!;
}

/** The statement inserting a pending top-up where `condition` holds (the claim of its key). */
export function insertTopUpIf(
  db: TenantDb,
  t: { id: string; userId: string; amount: bigint; currency: string; provider: ProviderName },
  condition: ReturnType<typeof sql>,
  now: number,
): BatchItem<"sqlite"> {
  return db.run(sql`INSERT INTO top_ups (id, user_id, amount, currency, provider, status, created_at)
    SELECT ${t.id}, ${t.userId}, ${t.amount}, ${t.currency}, ${t.provider}, 'pending', ${now} WHERE ${condition}`);
}

/** The statement recording the provider's payment and checkout on a top-up. */
export function setCheckoutOp(db: TenantDb, id: string, providerRef: string, checkout: string): BatchItem<"sqlite"> {
  return db.run(sql`UPDATE top_ups SET provider_ref = ${providerRef}, checkout = ${checkout} WHERE id = ${id}`);
}

/** Marks a top-up failed before any payment started (the provider refused to create it). */
export async function failTopUp(db: TenantDb, id: string, failure: string, now: number): Promise<void> {
  await db.run(sql`UPDATE top_ups SET status = 'failed', failure = ${failure}, completed_at = ${now}
    WHERE id = ${id} AND status = 'pending'`);
}

export async function findTopUp(db: TenantDb, id: string): Promise<TopUpRow | undefined> {
  const [row] = await db.select().from(topUps).where(eq(topUps.id, id)).limit(1);
  return row;
}

/** A page of a user's top-ups, newest first (ids are time-ordered). */
export async function topUpPage(db: TenantDb, userId: string, limit: number, beforeId?: string) {
  return db
    .select()
    .from(topUps)
    .where(and(eq(topUps.userId, userId), beforeId ? lt(topUps.id, beforeId) : undefined))
    .orderBy(desc(topUps.id))
    .limit(limit);
}

/** A verified provider event about one of this tenant's top-ups. */
export interface ConfirmedPayment {
  provider: ProviderName;
  eventId: string;
  type: string;
  topUp: TopUpRow;
  outcome: "succeeded" | "failed";
  reason?: string | undefined;
  providerRef: string | null;
}

/** What applying an event did: credited the wallet, marked the top-up failed, or nothing (a duplicate or too late). */
export type ApplyResult = "credited" | "failed" | "duplicate";

/**
 * Applies a confirmed payment in one batch. The event id is recorded once (a redelivery is a
 * no-op). A success moves the top-up to succeeded (from pending or failed: a payment may succeed
 * after a failed attempt) and, where the top-up is succeeded and has no credit yet, writes the
 * `payment.succeeded` event and the credit (`payments_clearing` → wallet); the ledger's unique
 * top_up_id index is the backstop. A failure moves only a pending top-up to failed.
 */
export async function applyPayment(
  db: TenantDb,
  p: ConfirmedPayment,
  events: { succeeded: (transactionId: string) => DomainEvent; failed: DomainEvent },
  transactionId: string,
  now: number,
): Promise<ApplyResult> {
  const t = p.topUp;
  const recordEvent = db.run(sql`INSERT INTO payment_events (provider, event_id, type, top_up_id, outcome, received_at)
    VALUES (${p.provider}, ${p.eventId}, ${p.type}, ${t.id}, ${p.outcome}, ${now}) ON CONFLICT DO NOTHING`);
  if (p.outcome === "failed") {
    const [, changed] = await db.batch([
      recordEvent,
      db.run(sql`UPDATE top_ups SET status = 'failed', failure = ${p.reason ?? "payment_failed"}, completed_at = ${now}
        WHERE id = ${t.id} AND status = 'pending' AND changes() = 1`),
      outboxInsertIf(db, events.failed, sql`changes() = 1`, now),
    ]);
    return changed.rowsAffected === 1 ? "failed" : "duplicate";
  }
  // Succeeded and not yet credited: evaluated before the posting's header exists, so every
  // statement of this batch sees the same answer, and any later batch sees "credited".
  const uncredited = sql`EXISTS (SELECT 1 FROM top_ups WHERE id = ${t.id} AND status = 'succeeded')
    AND NOT EXISTS (SELECT 1 FROM ledger_transactions WHERE top_up_id = ${t.id})`;
  const posting = postingOps(
    db,
    {
      id: transactionId,
      kind: "top_up",
      topUpId: t.id,
      createdBy: p.provider,
      legs: [
        { account: { system: "payments_clearing" }, amount: -BigInt(t.amount), currency: t.currency },
        { account: { user: t.userId }, amount: BigInt(t.amount), currency: t.currency },
      ],
    },
    uncredited,
    now,
  );
  const res = await db.batch([
    recordEvent,
    db.run(sql`UPDATE top_ups SET status = 'succeeded', completed_at = ${now}, failure = NULL,
        provider_ref = coalesce(provider_ref, ${p.providerRef})
      WHERE id = ${t.id} AND status IN ('pending', 'failed')`),
    outboxInsertIf(db, events.succeeded(transactionId), uncredited, now),
    ...posting,
  ] as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  return (res[1] as { rowsAffected: number }).rowsAffected === 1 ? "credited" : "duplicate";
}
