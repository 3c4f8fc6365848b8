/**
 * The SQL of POST /v1/orders, taken from the route's own functions rather than rewritten: each
 * batch is built once by the real functions (claimOps, productsByIdsQuery, the VIP reads,
 * placeOrderOps, postingOps) against a drizzle handle that records the statements instead of
 * running them (drizzle's sqlite-proxy shares the SQLite dialect of the libsql driver the Worker
 * uses, so text and parameters are what the libSQL server receives).
 *
 * A batch is recorded twice, for two runs; the string parameters that differ between the two
 * (fresh ids, the key, its owner, the body hash) and the times are the per-run slots of a
 * {@link Template}, which makes the batch of any later run with fresh values in microseconds.
 */
import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/sqlite-proxy";
import type { TenantDb } from "../../src/db/client";
import { postingOps } from "../../src/db/tenant/ledger";
import { claimOps, type MoneyKey } from "../../src/db/tenant/money-keys";
import { placeOrderOps } from "../../src/db/tenant/orders";
import { productsByIdsQuery } from "../../src/db/tenant/products";
import * as schema from "../../src/db/tenant/schema";
import type { OrderRow, ProductRow } from "../../src/db/tenant/schema";
import { livePeriodsQuery, memberQuery } from "../../src/db/tenant/vip";
import { newId } from "../../src/lib/ids";
import { linesOf, orderView } from "../../src/workers/commerce/order-view";
import { priceOrder } from "../../src/workers/commerce/pricing";

/** A statement, its parameters, and whether it returns rows (`all`) or not (`run`). */
export interface Statement {
  sql: string;
  params: unknown[];
  method: string;
}

type Batch = [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

/** The statements `build` hands to `db.batch`, in order. */
export async function recordBatch(build: (db: TenantDb) => BatchItem<"sqlite">[]): Promise<Statement[]> {
  let got: Statement[] | undefined;
  const db = drizzle(
    async () => ({ rows: [] }),
    async (queries) => {
      got = queries.map((q) => ({ sql: q.sql, params: q.params, method: q.method }));
      return queries.map(() => ({ rows: [] }));
    },
    { schema },
  );
  const t = db as unknown as TenantDb;
  await t.batch(build(t) as Batch);
  if (!got) throw new Error("no batch recorded");
  return got;
}

/** What one order run varies: its instant and its fresh ids; the buyer is a parameter of the template. */
export interface Run {
  now: number;
  userId: string;
}

/**
 * A recorded batch with its per-run slots: every string parameter that differed between two
 * recordings is a token (an id, the key, the owner, the hash) replaced by a fresh value of the
 * same kind per run, inside any string parameter (account ids and JSON answers embed them); the
 * buyer's id is a token too; numbers that differed are times, shifted to the run's instant.
 */
export class Template {
  private readonly tokens: string[];
  private readonly times: Set<number>;

  constructor(
    readonly statements: Statement[],
    other: Statement[],
    private readonly recorded: Run,
    otherRun: Run,
  ) {
    if (other.length !== statements.length) throw new Error("the two recordings differ in length");
    const tokens = new Set<string>([recorded.userId]);
    const times = new Set<number>();
    statements.forEach((st, i) => {
      if (st.sql !== other[i]!.sql) throw new Error(`statement ${i} differs between the recordings`);
      st.params.forEach((p, j) => {
        const q = other[i]!.params[j];
        if (p === q) return;
        if (typeof p === "string" && !p.startsWith("{") && !p.startsWith("[")) tokens.add(p);
        else if (typeof p === "number" || typeof p === "bigint") times.add(Number(p));
      });
    });
    tokens.delete(otherRun.userId);
    // Longest first: a token that contains another (an account id, a scope) is replaced whole.
    this.tokens = [...tokens].sort((a, b) => b.length - a.length);
    this.times = times;
  }

  /** The batch of a run: fresh ids (time-ordered like the route's), the buyer's id, the run's times. */
  instantiate(run: Run): Statement[] {
    const fresh = new Map<string, string>();
    for (const t of this.tokens)
      fresh.set(t, t === this.recorded.userId ? run.userId : /^[0-9a-z]{26}$/.test(t) ? newId(run.now) : freshLike(t));
    const shift = run.now - this.recorded.now;
    const swap = (p: unknown): unknown => {
      if (typeof p === "string") {
        let s = p;
        for (const t of this.tokens) if (s.includes(t)) s = s.split(t).join(fresh.get(t)!);
        return s;
      }
      if (typeof p === "number" && this.times.has(p)) return p + shift;
      if (typeof p === "bigint" && this.times.has(Number(p))) return p + BigInt(shift);
      return p;
    };
    return this.statements.map((st) => ({ ...st, params: st.params.map(swap) }));
  }
}

/** A random string of the same length and alphabet class as `t` (a key, an owner, a hex hash). */
function freshLike(t: string): string {
  const hex = /^[0-9a-f]+$/.test(t);
  const alphabet = hex ? "0123456789abcdef" : "0123456789abcdefghijklmnopqrstuvwxyz";
  let out = "";
  for (let i = 0; i < t.length; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)];
  return out;
}

/** The order's key as the route makes it (idempotency.ts moneyKeyOf): scope, client key, body hash, run. */
function keyOf(userId: string): MoneyKey {
  return {
    scope: `order:${userId}`,
    key: `bench-${newId()}`,
    hash: [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join(""),
    owner: newId(),
  };
}

/** Round trip 1 (idempotency.ts claimWith): the claim, then the products and the VIP reads. */
function claimBatch(db: TenantDb, k: MoneyKey, run: Run, productId: string): BatchItem<"sqlite">[] {
  return [
    ...claimOps(db, k, run.now),
    productsByIdsQuery(db, [productId]),
    livePeriodsQuery(db, run.userId, run.now),
    memberQuery(db, run.userId),
  ];
}

/**
 * Round trip 2 (order-service.ts attemptOrder): placeOrderOps for one unit of an ai_quota
 * product, with the effects the route computes for it (wallet → revenue, one quota grant, no
 * unlock, no VIP line) and its two stored answers.
 */
function orderBatch(db: TenantDb, k: MoneyKey, run: Run, product: ProductRow): BatchItem<"sqlite">[] {
  const priced = priceOrder([{ productId: product.id, quantity: 1 }], new Map([[product.id, product]]), 0);
  const orderId = newId(run.now);
  const lines = linesOf(priced);
  const row: OrderRow = {
    id: orderId,
    userId: run.userId,
    status: "fulfilled",
    currency: priced.currency,
    total: Number(priced.total),
    items: JSON.stringify(lines),
    createdAt: run.now,
    paidAt: run.now,
    fulfilledAt: run.now,
    refundedAt: null,
    refundReason: null,
    refundedBy: null,
    refundRun: null,
    refundDetail: null,
  };
  const units = BigInt((JSON.parse(product.grants) as { units: number }).units);
  const insufficient = {
    type: "https://canopy.dev/errors/insufficient_funds",
    title: "Insufficient funds",
    status: 402,
    code: "insufficient_funds",
    detail: `The wallet's ${priced.currency} balance does not cover ${priced.total}; nothing changed.`,
    requestId: newId(),
  };
  return placeOrderOps(
    db,
    k,
    row,
    {
      transactionId: newId(run.now),
      legs: [
        { account: { user: run.userId }, amount: -priced.total, currency: priced.currency },
        { account: { system: "revenue" }, amount: priced.total, currency: priced.currency },
      ],
      grants: [{ kind: "ai_quota", target: "", quantity: units }],
      unlocks: [],
      productVersions: [{ id: product.id, version: product.version }],
      guards: [],
      event: {
        type: "order.paid",
        subject: run.userId,
        data: {
          orderId,
          userId: run.userId,
          total: row.total,
          currency: row.currency,
          items: lines.map((l) => ({ productId: l.productId, sku: l.sku, kind: l.kind, quantity: l.quantity })),
        },
        traceparent: `00-${"0".repeat(31)}1-${"0".repeat(15)}1-01`,
      },
    },
    { placed: orderView(row), insufficient },
    () => [],
    run.now,
  );
}

/**
 * The two round trips of one order as one template (they share the key, its owner and the
 * times): the first `claimLength` statements are round trip 1, the rest round trip 2.
 */
export interface OrderTemplate {
  template: Template;
  claimLength: number;
}

/** Records both batches for two runs of `userId` buying `product` and makes their template. */
export async function orderTemplate(userId: string, product: ProductRow): Promise<OrderTemplate> {
  const runs: Run[] = [
    { now: Date.now(), userId },
    { now: Date.now() + 1000, userId },
  ];
  const recorded: Statement[][] = [];
  let claimLength = 0;
  for (const run of runs) {
    const k = keyOf(userId);
    const claim = await recordBatch((db) => claimBatch(db, k, run, product.id));
    claimLength = claim.length;
    recorded.push([...claim, ...(await recordBatch((db) => orderBatch(db, k, run, product)))]);
  }
  return { template: new Template(recorded[0]!, recorded[1]!, runs[0]!, runs[1]!), claimLength };
}

/**
 * A balanced `adjustment` (promotions → the user's wallet) as postingOps writes it: the
 * funding of a user's wallet, written straight into the tenant's file.
 */
export function fundingBatch(userId: string, amount: bigint, currency: string, now: number): Promise<Statement[]> {
  return recordBatch((db) =>
    postingOps(
      db,
      {
        id: newId(now),
        kind: "adjustment",
        memo: "bench funding",
        createdBy: "bench",
        legs: [
          { account: { system: "promotions" }, amount: -amount, currency },
          { account: { user: userId }, amount, currency },
        ],
      },
      sql`1`,
      now,
    ),
  );
}
