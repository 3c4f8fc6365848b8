import { and, desc, eq, lt, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";
import { balanceOf, type Leg, postingOps } from "./ledger";
import { completeOp, type MoneyKey, stillRunning } from "./money-keys";
import { type DomainEvent, outboxInsertIf } from "./outbox";
import { type OrderRow, orders } from "./schema";

/**
 * Orders paid from the wallet, and their refunds (migrations/tenant/0023, docs/commerce.md).
 * Each is one batch whose first statement writes the gate row under every condition that makes
 * it valid (the key still this run's, the balance covering the total, every product as priced,
 * nothing owned twice); every later statement is guarded by that row's existence, so the debit,
 * the grants, the event and the stored answer all happen together or not at all.
 */

type Batch = [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

/** A countable grant of an order (AI quota units, virtual currency). */
export interface CountableGrant {
  kind: "ai_quota" | "currency";
  target: string;
  quantity: bigint;
}

/** What placing an order writes, besides its row. */
export interface OrderEffects {
  transactionId: string;
  legs: Leg[];
  grants: CountableGrant[];
  unlocks: { type: "post" | "tag"; target: string }[];
  /** Products as read: the order applies only if each is still active at this version. */
  productVersions: { id: string; version: number }[];
  /** More conditions of the gate (the VIP schedule still as read). */
  guards: SQL[];
  event: DomainEvent;
}

/** SQL true where an active unlock of the target exists for the user. */
const unlocked = (userId: string, u: { type: string; target: string }) =>
  sql`EXISTS (SELECT 1 FROM content_unlocks WHERE user_id = ${userId} AND target_type = ${u.type}
    AND target = ${u.target} AND revoked_at IS NULL)`;

/**
 * The batch placing a wallet-paid order: its row as `fulfilled` (every grant is a row of this
 * database, so payment and fulfilment are one step), the payment posting (wallet → revenue) and
 * any currency grant (promotions → wallet) in one journal transaction, the countable grants and
 * unlocks, `extra` statements (VIP periods) and the event, then the stored answer: 201 with the
 * order, or 402 where it was not placed because the balance does not cover it. The first and last
 * items tell which happened.
 */
export function placeOrderOps(
  db: TenantDb,
  k: MoneyKey,
  o: OrderRow,
  fx: OrderEffects,
  answers: { placed: unknown; insufficient: unknown },
  extra: (gate: SQL) => BatchItem<"sqlite">[],
  now: number,
): Batch {
  const funds = sql`${balanceOf(o.userId, o.currency)} >= ${BigInt(o.total)}`;
  const products = fx.productVersions.map(
    (p) => sql` AND EXISTS (SELECT 1 FROM products WHERE id = ${p.id} AND version = ${p.version}
      AND active = 1 AND deleted_at IS NULL)`,
  );
  const fresh = fx.unlocks.map((u) => sql` AND NOT ${unlocked(o.userId, u)}`);
  const more = fx.guards.map((g) => sql` AND ${g}`);
  const placed = sql`EXISTS (SELECT 1 FROM orders WHERE id = ${o.id})`;
  const ops: BatchItem<"sqlite">[] = [
    db.run(sql`INSERT INTO orders (id, user_id, status, currency, total, items, created_at, paid_at, fulfilled_at)
      SELECT ${o.id}, ${o.userId}, ${o.status}, ${o.currency}, ${BigInt(o.total)}, ${o.items}, ${o.createdAt},
        ${o.paidAt}, ${o.fulfilledAt}
      WHERE ${stillRunning(k)} AND ${funds}${sql.join([...products, ...fresh, ...more])}`),
    completeOp(db, k, { status: 201, body: answers.placed }, placed),
  ];
  if (fx.legs.length) {
    ops.push(
      ...postingOps(
        db,
        { id: fx.transactionId, kind: "order", orderId: o.id, createdBy: o.userId, legs: fx.legs },
        placed,
        now,
      ),
    );
  }
  for (const g of fx.grants) {
    ops.push(
      db.run(sql`INSERT INTO order_grants (order_id, user_id, kind, target, quantity, created_at)
        SELECT ${o.id}, ${o.userId}, ${g.kind}, ${g.target}, ${g.quantity}, ${now} WHERE ${placed}`),
    );
  }
  for (const u of fx.unlocks) {
    ops.push(
      db.run(sql`INSERT INTO content_unlocks (user_id, target_type, target, order_id, created_at)
        SELECT ${o.userId}, ${u.type}, ${u.target}, ${o.id}, ${now} WHERE ${placed}
        ON CONFLICT (user_id, target_type, target) DO UPDATE SET order_id = excluded.order_id,
          created_at = excluded.created_at, revoked_at = NULL`),
    );
  }
  ops.push(...extra(placed), outboxInsertIf(db, fx.event, placed, now));
  ops.push(
    completeOp(
      db,
      k,
      { status: 402, body: answers.insufficient },
      sql`NOT ${placed} AND NOT (${funds}) AND state = 'running'`,
    ),
  );
  return ops as Batch;
}

/** What a refund writes, besides the order's new state. */
export interface RefundEffects {
  refundTransactionId: string;
  /** The order's payment transaction, which the refund reverses. */
  reverses: string | null;
  legs: Leg[];
  clawbackTransactionId: string;
  clawbackLegs: Leg[];
  /** Balances the clawback takes from: the refund applies only if each still covers its part. */
  clawbackGuards: { currency: string; amount: bigint }[];
  /** More conditions of the gate (the VIP schedule still as read). */
  guards: SQL[];
  detail: string;
  event: DomainEvent;
}

/**
 * The batch refunding an order: the order to `refunded` (paid or fulfilled only, marked with
 * this run), the refund posting (refunds → wallet) reversing the payment, the clawback of granted
 * virtual currency as far as the wallet still holds it, unused quota units and unlocks revoked,
 * `extra` (VIP periods), the event and the stored answer. The first item says whether it applied.
 */
export function refundOrderOps(
  db: TenantDb,
  k: MoneyKey,
  o: { id: string; userId: string },
  by: string,
  reason: string,
  fx: RefundEffects,
  answer: unknown,
  extra: (gate: SQL) => BatchItem<"sqlite">[],
  now: number,
): Batch {
  const guards = [
    ...fx.clawbackGuards.map((g) => sql` AND ${balanceOf(o.userId, g.currency)} >= ${g.amount}`),
    ...fx.guards.map((g) => sql` AND ${g}`),
  ];
  const mine = sql`EXISTS (SELECT 1 FROM orders WHERE id = ${o.id} AND refund_run = ${k.owner})`;
  const ops: BatchItem<"sqlite">[] = [
    db.run(sql`UPDATE orders SET status = 'refunded', refunded_at = ${now}, refund_reason = ${reason},
        refunded_by = ${by}, refund_run = ${k.owner}, refund_detail = ${fx.detail}
      WHERE id = ${o.id} AND status IN ('paid', 'fulfilled') AND ${stillRunning(k)}${sql.join(guards)}`),
    completeOp(db, k, { status: 200, body: answer }, mine),
  ];
  if (fx.legs.length) {
    ops.push(
      ...postingOps(
        db,
        {
          id: fx.refundTransactionId,
          kind: "refund",
          orderId: o.id,
          reversesId: fx.reverses ?? undefined,
          createdBy: by,
          memo: reason,
          legs: fx.legs,
        },
        mine,
        now,
      ),
    );
  }
  if (fx.clawbackLegs.length) {
    ops.push(
      ...postingOps(
        db,
        {
          id: fx.clawbackTransactionId,
          kind: "clawback",
          orderId: o.id,
          createdBy: by,
          memo: reason,
          legs: fx.clawbackLegs,
        },
        mine,
        now,
      ),
    );
  }
  ops.push(
    db.run(sql`UPDATE order_grants SET revoked = quantity - used WHERE order_id = ${o.id} AND ${mine}`),
    db.run(
      sql`UPDATE content_unlocks SET revoked_at = ${now} WHERE order_id = ${o.id} AND revoked_at IS NULL AND ${mine}`,
    ),
    ...extra(mine),
    outboxInsertIf(db, fx.event, mine, now),
  );
  return ops as Batch;
}

/** The query of one order by id (a statement, so it can share a batch with other reads). */
export const orderQuery = (db: TenantDb, id: string) => db.select().from(orders).where(eq(orders.id, id)).limit(1);

export async function findOrder(db: TenantDb, id: string): Promise<OrderRow | undefined> {
  const [row] = await orderQuery(db, id);
  return row;
}

/** The query of an order's payment transaction id (for the refund that reverses it). */
export function paymentTransactionQuery(db: TenantDb, orderId: string) {
  return db.all<{ id: string }>(
    sql`SELECT id FROM ledger_transactions WHERE order_id = ${orderId} AND kind = 'order' LIMIT 1`,
  );
}

/** A page of orders, newest first: one user's, or the tenant's (filtered by user and status). */
export async function orderPage(
  db: TenantDb,
  q: {
    userId?: string | undefined;
    status?: OrderRow["status"] | undefined;
    limit: number;
    beforeId?: string | undefined;
  },
): Promise<OrderRow[]> {
  return db
    .select()
    .from(orders)
    .where(
      and(
        q.userId ? eq(orders.userId, q.userId) : undefined,
        q.status ? eq(orders.status, q.status) : undefined,
        q.beforeId ? lt(orders.id, q.beforeId) : undefined,
      ),
    )
    .orderBy(desc(orders.id))
    .limit(q.limit);
}

/** The query of a user's active unlocks of some targets (one statement, for an order's read batch). */
export function activeUnlocksQuery(db: TenantDb, userId: string, targets: string[]) {
  return db.all<{ target_type: string; target: string }>(
    sql`SELECT target_type, target FROM content_unlocks WHERE user_id = ${userId} AND revoked_at IS NULL
      AND target IN (${sql.join(targets.length ? targets.map((t) => sql`${t}`) : [sql`NULL`], sql`, `)})`,
  );
}
