import type { BatchItem } from "drizzle-orm/batch";
import type { Context } from "hono";
import type { Leg } from "../../db/tenant/ledger";
import { type MoneyKey, readMoneyKey } from "../../db/tenant/money-keys";
import { findOrder, orderQuery, paymentTransactionQuery, refundOrderOps } from "../../db/tenant/orders";
import type { OrderRow } from "../../db/tenant/schema";
import { orderGrantBalancesQuery } from "../../db/tenant/order-grants";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { type AppEnv, scopeOf } from "../gateway/context";
import { traceparentOf } from "../gateway/http";
import { answerOfLostRun, callerOf, claimWith, moneyKeyOf, notMine, releasingKey } from "./idempotency";
import { orderView, type RefundDetail } from "./order-view";
import { refundVip } from "./vip-orders";

/**
 * Refunding an order (docs/commerce.md, Refunds): the money back to the wallet from `refunds`,
 * reversing the payment; granted virtual currency taken back as far as the wallet still holds it
 * (the shortfall recorded); unused AI quota units and unlocked content revoked; the order's
 * remaining VIP time removed. One refund per order, however many requests race.
 */
export async function refundOrder(c: Context<AppEnv>, orderId: string, body: { reason: string }): Promise<Response> {
  const s = scopeOf(c);
  const db = s.db;
  const now = Date.now();
  const by = callerOf(c.get("principal"));
  const k = await moneyKeyOf(c, `refund:${orderId}`, body);
  const order = await findOrder(db, orderId);
  if (!order) throw new AppError("order_not_found", "No such order.");
  const vip = refundVip(s, order.userId, now);
  // The order is read again with every attempt's reads: its state decides whether a refund applies.
  const reads = () => [
    orderQuery(db, orderId),
    paymentTransactionQuery(db, orderId),
    orderGrantBalancesQuery(db, orderId),
    ...vip.reads,
  ];
  const claimed = await claimWith(db, k, reads(), now);
  if (claimed.outcome.kind !== "mine") return notMine(c, claimed.outcome);
  return releasingKey(db, k, async () => {
    let results = claimed.reads;
    for (let attempt = 1; ; attempt++) {
      const answer = await attemptRefund(c, k, orderId, by, body.reason, results, vip, now);
      if (answer !== "retry") return answer;
      if (attempt === 3) throw new AppError("idempotency_conflict", "The wallet changed while refunding; retry.");
      results = (await db.batch(reads() as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[];
    }
  });
}

async function attemptRefund(
  c: Context<AppEnv>,
  k: MoneyKey,
  orderId: string,
  by: string,
  reason: string,
  reads: unknown[],
  vip: ReturnType<typeof refundVip>,
  now: number,
): Promise<Response | "retry"> {
  const db = scopeOf(c).db;
  const order = (reads[0] as OrderRow[])[0];
  const notRefundable = () => new AppError("order_not_refundable", "The order is refunded already or was never paid.");
  if (!order) throw new AppError("order_not_found", "No such order.");
  if (order.status !== "paid" && order.status !== "fulfilled") throw notRefundable();
  const payment = (reads[1] as { id: string }[])[0]?.id ?? null;
  const granted = reads[2] as { currency: string; quantity: number; balance: number }[];
  const vipPlan = vip.plan(reads.slice(3), orderId);
  const total = BigInt(order.total);
  const legs: Leg[] =
    total > 0n
      ? [
          { account: { system: "refunds" }, amount: -total, currency: order.currency },
          { account: { user: order.userId }, amount: total, currency: order.currency },
        ]
      : [];
  const clawedBack: RefundDetail["clawedBack"] = granted.map((g) => {
    const amount = Math.min(g.quantity, Math.max(0, g.balance));
    return { currency: g.currency, amount, shortfall: g.quantity - amount };
  });
  const clawbackLegs: Leg[] = clawedBack
    .filter((x) => x.amount > 0)
    .flatMap((x) => [
      { account: { user: order.userId }, amount: -BigInt(x.amount), currency: x.currency },
      { account: { system: "promotions" }, amount: BigInt(x.amount), currency: x.currency },
    ]);
  const detail: RefundDetail = { clawedBack };
  const after = {
    ...order,
    status: "refunded" as const,
    refundedAt: now,
    refundReason: reason,
    refundedBy: by,
    refundDetail: JSON.stringify(detail),
  };
  const view = orderView(after);
  const ops = refundOrderOps(
    db,
    k,
    order,
    by,
    reason,
    {
      refundTransactionId: newId(now),
      reverses: payment,
      legs,
      clawbackTransactionId: newId(now),
      clawbackLegs,
      clawbackGuards: clawedBack
        .filter((x) => x.amount > 0)
        .map((x) => ({ currency: x.currency, amount: BigInt(x.amount) })),
      guards: [vipPlan.guard].flatMap((g) => g ?? []),
      detail: JSON.stringify(detail),
      event: {
        type: "order.refunded",
        subject: order.userId,
        data: { orderId, userId: order.userId, total: order.total, currency: order.currency, reason, by },
        traceparent: traceparentOf(c),
      },
    },
    view,
    (gate) => vipPlan.ops(db, gate),
    now,
  );
  const res = (await db.batch(ops)) as { rowsAffected: number }[];
  if (res[0]!.rowsAffected === 1) return c.json(view, 200);
  const key = await readMoneyKey(db, k);
  if (key?.owner !== k.owner) return answerOfLostRun(c, db, k);
  const now2 = await findOrder(db, orderId);
  if (now2 && now2.status === "refunded") throw notRefundable();
  return "retry";
}
