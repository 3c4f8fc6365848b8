import type { BatchItem } from "drizzle-orm/batch";
import type { Context } from "hono";
import type { TenantDb } from "../../db/client";
import type { Leg } from "../../db/tenant/ledger";
import { type MoneyKey, readMoneyKey } from "../../db/tenant/money-keys";
import { activeUnlocksQuery, type CountableGrant, placeOrderOps } from "../../db/tenant/orders";
import { productsByIdsQuery } from "../../db/tenant/products";
import type { OrderRow, ProductRow } from "../../db/tenant/schema";
import { AppError, toProblem } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { type AppEnv, scopeOf } from "../gateway/context";
import { traceparentOf } from "../gateway/http";
import { answerOfLostRun, claimWith, moneyKeyOf, notMine, releasingKey } from "./idempotency";
import { linesOf, orderView } from "./order-view";
import { type PricedOrder, priceOrder } from "./pricing";
import { type OrderVip, orderVip } from "./vip-orders";

/**
 * Placing a wallet-paid order (docs/commerce.md, Orders) in two round trips: the key's claim
 * batched with the products' reads, then one batch that debits, grants and answers, or answers
 * 402 and changes nothing.
 */

export interface OrderBody {
  items: { productId: string; quantity: number }[];
  pay: "wallet";
}

/** The content a line unlocks, if it is a content product. */
function unlockOf(p: ProductRow): { type: "post" | "tag"; target: string } | null {
  if (p.kind !== "content") return null;
  const g = JSON.parse(p.grants) as { postId?: string; tag?: string };
  return g.postId ? { type: "post", target: g.postId } : { type: "tag", target: g.tag ?? "" };
}

/** The ledger legs and countable grants of a priced order. */
function effectsOf(userId: string, priced: PricedOrder): { legs: Leg[]; grants: CountableGrant[] } {
  const legs: Leg[] = [];
  const grants: CountableGrant[] = [];
  if (priced.total > 0n) {
    legs.push(
      { account: { user: userId }, amount: -priced.total, currency: priced.currency },
      { account: { system: "revenue" }, amount: priced.total, currency: priced.currency },
    );
  }
  for (const l of priced.lines) {
    const g = JSON.parse(l.product.grants) as { units?: number; amount?: number; currency?: string };
    const qty = BigInt(l.quantity);
    if (l.product.kind === "ai_quota")
      grants.push({ kind: "ai_quota", target: "", quantity: BigInt(g.units ?? 0) * qty });
    if (l.product.kind === "currency" && g.currency) {
      const amount = BigInt(g.amount ?? 0) * qty;
      legs.push(
        { account: { system: "promotions" }, amount: -amount, currency: g.currency },
        { account: { user: userId }, amount, currency: g.currency },
      );
      grants.push({ kind: "currency", target: g.currency, quantity: amount });
    }
  }
  // Two lines granting the same thing are one grant row.
  const merged = new Map<string, CountableGrant>();
  for (const g of grants) {
    const prev = merged.get(`${g.kind}:${g.target}`);
    merged.set(`${g.kind}:${g.target}`, prev ? { ...g, quantity: prev.quantity + g.quantity } : g);
  }
  return { legs, grants: [...merged.values()] };
}

/** Tries at placing one order before giving up with 409 `product_unavailable`. */
const MAX_ATTEMPTS = 12;

/** Places the caller's order; answers the Response to send (201, a replay, or a stored 402). */
export async function placeOrder(c: Context<AppEnv>, userId: string, body: OrderBody): Promise<Response> {
  const s = scopeOf(c);
  const db = s.db;
  const now = Date.now();
  const k = await moneyKeyOf(c, "order", body);
  const ids = body.items.map((i) => i.productId);
  const vip = orderVip(s, userId, now);
  const reads = () => [productsByIdsQuery(db, ids), ...vip.reads];
  const claimed = await claimWith(db, k, reads(), now);
  if (claimed.outcome.kind !== "mine") return notMine(c, claimed.outcome);
  return releasingKey(db, k, async () => {
    let results = claimed.reads;
    // A parallel change of the catalogue or of the buyer's VIP schedule between the reads and
    // the batch leaves the order unplaced: read again and retry (a burst of one buyer's VIP
    // purchases serialises on the schedule's version, so allow as many tries as such a burst).
    for (let attempt = 1; ; attempt++) {
      const answer = await attemptOrder(c, k, userId, body, results, vip, now);
      if (answer !== "retry") return answer;
      if (attempt === MAX_ATTEMPTS) {
        throw new AppError("product_unavailable", "The catalogue changed while the order was placed; try again.");
      }
      results = (await db.batch(reads() as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[];
    }
  });
}

/** One try at placing the order from the reads' results: the answer, or "retry". */
async function attemptOrder(
  c: Context<AppEnv>,
  k: MoneyKey,
  userId: string,
  body: OrderBody,
  reads: unknown[],
  vip: ReturnType<typeof orderVip>,
  now: number,
): Promise<Response | "retry"> {
  const db = scopeOf(c).db;
  const products = reads[0] as ProductRow[];
  const plan: OrderVip = vip.plan(reads.slice(1));
  const priced = priceOrder(body.items, new Map(products.map((p) => [p.id, p])), plan.discountPercent);
  const unlocks = priced.lines.flatMap((l) => unlockOf(l.product) ?? []);
  const alreadyOwned = () => new AppError("already_owned", "You have unlocked this content already.");
  if (unlocks.length && (await owned(db, userId, unlocks))) throw alreadyOwned();
  const orderId = newId(now);
  const lines = linesOf(priced);
  const row: OrderRow = {
    id: orderId,
    userId,
    status: "fulfilled",
    currency: priced.currency,
    total: Number(priced.total),
    items: JSON.stringify(lines),
    createdAt: now,
    paidAt: now,
    fulfilledAt: now,
    refundedAt: null,
    refundReason: null,
    refundedBy: null,
    refundRun: null,
    refundDetail: null,
  };
  const view = orderView(row);
  const insufficient = new AppError(
    "insufficient_funds",
    `The wallet's ${priced.currency} balance does not cover ${priced.total}; nothing changed.`,
  );
  const { legs, grants } = effectsOf(userId, priced);
  const ops = placeOrderOps(
    db,
    k,
    row,
    {
      transactionId: newId(now),
      legs,
      grants,
      unlocks,
      productVersions: priced.lines.map((l) => ({ id: l.product.id, version: l.product.version })),
      guards: [plan.guard(priced)].flatMap((g) => g ?? []),
      event: {
        type: "order.paid",
        subject: userId,
        data: {
          orderId,
          userId,
          total: row.total,
          currency: row.currency,
          items: lines.map((l) => ({ productId: l.productId, sku: l.sku, kind: l.kind, quantity: l.quantity })),
        },
        traceparent: traceparentOf(c),
      },
    },
    { placed: view, insufficient: toProblem(insufficient, c.get("requestId")) },
    (gate) => plan.ops(db, orderId, priced, gate),
    now,
  );
  const res = (await db.batch(ops)) as { rowsAffected: number }[];
  if (res[0]!.rowsAffected === 1) return c.json(view, 201);
  if (res[res.length - 1]!.rowsAffected === 1) throw insufficient;
  const key = await readMoneyKey(db, k);
  if (key?.owner !== k.owner) return answerOfLostRun(c, db, k);
  // Not placed and not for the money: a parallel order unlocked the content, or something moved.
  if (unlocks.length && (await owned(db, userId, unlocks))) throw alreadyOwned();
  return "retry";
}

async function owned(db: TenantDb, userId: string, unlocks: { type: string; target: string }[]): Promise<boolean> {
  const rows = await activeUnlocksQuery(
    db,
    userId,
    unlocks.map((u) => u.target),
  );
  return rows.some((r) => unlocks.some((u) => u.type === r.target_type && u.target === r.target));
}
