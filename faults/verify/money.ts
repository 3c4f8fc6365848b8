/**
 * No money lost or spent twice across crashes, retries and lost answers (load/money.ts), read
 * through the API after the run:
 * - the ledger reconciles (the owner's `/v1/admin/ledger/reconciliation`): no inconsistency,
 *   every currency's entries sum to 0, the users' balances are the buyers', the clearing account
 *   holds what was topped up, revenue and refunds match the orders;
 * - per buyer, with the server's order list as the truth for unknown outcomes: balance = funded −
 *   price × orders not refunded, never negative; every order answered 201 is listed; no key made
 *   two orders (orders listed ≤ keys answered 201 + keys left unknown, and no order made from a
 *   key answered 402); every refund answered 200 shows, and no order is refunded that no refund
 *   was sent for;
 * - three journaled keys sent again with their original body answer what they answered first
 *   (same status and order), marked `Idempotent-Replayed: true`.
 */
import { z } from "zod";
import { callWithRetry, sleep, type Api } from "../http";
import type { MoneyLoad, MoneyOp } from "../load/money";
import { CURRENCY, PRODUCT_PRICE, type Buyer, type World } from "../world";
import { check, countBy, describeCounts, fail, type Check } from "./check";

const Reconciliation = z.object({
  currencies: z.array(
    z.object({
      currency: z.string(),
      entriesSum: z.number(),
      userBalances: z.number(),
      systemAccounts: z.record(z.string(), z.number()),
    }),
  ),
  inconsistencies: z.array(z.object({ kind: z.string(), id: z.string(), detail: z.string() })),
});
const Order = z
  .object({
    id: z.string(),
    status: z.string(),
    createdAt: z.string(),
    total: z.object({ amount: z.number(), currency: z.string() }),
  })
  .loose();
const OrderPage = z.object({ items: z.array(Order), nextCursor: z.string().nullable() });
const Wallet = z.object({ balances: z.array(z.object({ currency: z.string(), available: z.number() })) });

type OrderView = z.infer<typeof Order>;

async function get<T>(api: Api, op: string, path: string, token: string, schema: z.ZodType<T>): Promise<T> {
  const { last } = await callWithRetry(api, op, "GET", path, { token }, Date.now() + 30_000);
  if (last.status !== 200) throw new Error(`${path}: ${last.status ?? last.error} ${last.body}`);
  return schema.parse(last.json);
}

async function ordersOf(api: Api, b: Buyer): Promise<OrderView[]> {
  const all: OrderView[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = await get(api, "verify.orders", `/v1/orders?limit=100${q}`, b.accessToken, OrderPage);
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

function reconcile(c: Check, r: z.infer<typeof Reconciliation>, buyers: Buyer[], balances: number[]): void {
  for (const i of r.inconsistencies) fail(c, `reconciliation: ${i.kind} ${i.id}: ${i.detail}`);
  for (const cur of r.currencies)
    if (cur.entriesSum !== 0) fail(c, `reconciliation: ${cur.currency} entries sum to ${cur.entriesSum}, not 0`);
  const cny = r.currencies.find((x) => x.currency === CURRENCY);
  if (!cny) return fail(c, `reconciliation: no ${CURRENCY} ledger`);
  const held = balances.reduce((a, b) => a + b, 0);
  const funded = buyers.reduce((a, b) => a + b.funded, 0);
  if (cny.userBalances !== held)
    fail(c, `reconciliation: users hold ${cny.userBalances} ${CURRENCY}, the buyers' wallets ${held}`);
  if (cny.systemAccounts.payments_clearing !== -funded)
    fail(c, `reconciliation: payments_clearing ${cny.systemAccounts.payments_clearing}, topped up ${funded}`);
  c.notes.push(`${CURRENCY} ledger: ${JSON.stringify(cny.systemAccounts)}, users ${cny.userBalances}`);
}

/** One journaled key sent again as it was first sent (a raw fetch: the harness's Api drops headers). */
async function replay(api: Api, op: MoneyOp, token: string): Promise<string | null> {
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${api.origin}${op.path}`, {
      method: "POST",
      headers: {
        "x-tenant": api.tenant,
        "x-request-id": `flt-replay-${op.key}`.slice(0, 120),
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "idempotency-key": op.key,
      },
      body: JSON.stringify(op.body),
      signal: AbortSignal.timeout(30_000),
    }).catch(() => null);
    if (!res || res.status === 503) {
      await sleep(1000);
      continue;
    }
    const text = await res.text();
    const replayed = res.headers.get("idempotent-replayed");
    const id = op.kind === "order" && res.status === 201 ? z.object({ id: z.string() }).parse(JSON.parse(text)).id : "";
    if (res.status !== op.status) return `answered ${res.status}, first ${op.status}: ${text.slice(0, 200)}`;
    if (replayed !== "true") return `answered ${res.status} without idempotent-replayed: true (a second run?)`;
    if (op.kind === "order" && op.status === 201 && id !== op.orderId)
      return `a second order ${id} (first ${op.orderId})`;
    return null;
  }
  return "no answer after 5 tries";
}

/** Keys to replay: retried ones first (the lost-answer path), one of each kind and status where possible. */
function replayPicks(ops: MoneyOp[]): MoneyOp[] {
  const decided = ops.filter((o) => o.status === 201 || o.status === 402 || o.status === 200);
  const ranked = [...decided].sort((a, b) => b.attempts - a.attempts);
  const picks: MoneyOp[] = [];
  for (const want of [
    (o: MoneyOp) => o.status === 201,
    (o: MoneyOp) => o.status === 402,
    (o: MoneyOp) => o.kind === "refund",
  ]) {
    const o = ranked.find((x) => want(x) && !picks.includes(x));
    if (o) picks.push(o);
  }
  for (const o of ranked) if (picks.length < 3 && !picks.includes(o)) picks.push(o);
  return picks;
}

export async function verifyMoney(api: Api, world: World, money: MoneyLoad): Promise<Check> {
  const c = check("money: no order lost or paid twice, balances = top-ups − orders + refunds, ledger whole");
  const orders = money.orders;
  const refunds = money.refunds;
  c.attempted = orders.length;
  c.acknowledged = orders.filter((o) => o.status === 201).length;
  const balances: number[] = [];
  let listed = 0;
  let refundedListed = 0;
  let fromUnknown = 0;
  /** Retried keys answered 201 whose order predates the last attempt: an earlier attempt's answer was lost. */
  let lostAnswers = 0;
  for (const b of world.buyers) {
    const mine = orders.filter((o) => o.buyer === b);
    const paid = mine.filter((o) => o.status === 201);
    const unknown = mine.filter((o) => o.status === null);
    for (const o of mine)
      if (o.status !== null && o.status !== 201 && o.status !== 402)
        fail(c, `${b.username}: order key ${o.key} answered ${o.status} ${o.code ?? ""}`);
    const list = await ordersOf(api, b);
    const wallet = await get(api, "verify.wallet", "/v1/wallet", b.accessToken, Wallet);
    const balance = wallet.balances.find((x) => x.currency === CURRENCY)?.available ?? 0;
    balances.push(balance);
    listed += list.length;
    fromUnknown += Math.max(0, list.length - paid.length);
    const ids = new Set(list.map((o) => o.id));
    const created = new Map(list.map((o) => [o.id, Date.parse(o.createdAt)]));
    for (const o of paid)
      if (o.attempts > 1 && (created.get(o.orderId ?? "") ?? Number.POSITIVE_INFINITY) < o.lastStartedAt) lostAnswers++;
    if (ids.size !== list.length) fail(c, `${b.username}: the order list repeats an order`);
    for (const o of paid) {
      if (o.orderId && ids.has(o.orderId)) c.found++;
      else {
        c.lost++;
        fail(c, `${b.username}: order ${o.orderId} (key ${o.key}) answered 201 but is not listed`);
      }
    }
    if (new Set(paid.map((o) => o.orderId)).size !== paid.length)
      fail(c, `${b.username}: two keys answered 201 with the same order`);
    if (list.length > paid.length + unknown.length)
      fail(
        c,
        `${b.username}: ${list.length} orders stored, but only ${paid.length} keys answered 201 and ${unknown.length} stayed unknown (a key made two orders, or a 402 made one)`,
      );
    const distinctKeys = new Set(mine.map((o) => o.key)).size;
    if (list.length > distinctKeys) fail(c, `${b.username}: ${list.length} orders from ${distinctKeys} keys`);
    for (const o of list)
      if (o.total.amount !== PRODUCT_PRICE || o.total.currency !== CURRENCY)
        fail(c, `${b.username}: order ${o.id} cost ${o.total.amount} ${o.total.currency}`);
    const refunded = new Set(list.filter((o) => o.status === "refunded").map((o) => o.id));
    refundedListed += refunded.size;
    const myRefunds = refunds.filter((r) => r.buyer === b);
    for (const r of myRefunds) {
      if (r.status === 200 && !refunded.has(r.orderId ?? ""))
        fail(c, `${b.username}: refund of ${r.orderId} (key ${r.key}) answered 200, the order is not refunded`);
      if (r.status !== null && r.status !== 200)
        fail(c, `${b.username}: refund of ${r.orderId} (key ${r.key}) answered ${r.status} ${r.code ?? ""}`);
    }
    const asked = new Set(myRefunds.filter((r) => r.status === 200 || r.status === null).map((r) => r.orderId));
    for (const id of refunded)
      if (!asked.has(id)) fail(c, `${b.username}: order ${id} refunded, no refund sent for it`);
    const expected = b.funded - PRODUCT_PRICE * (list.length - refunded.size);
    if (balance !== expected)
      fail(
        c,
        `${b.username}: balance ${balance}, expected ${expected} = funded ${b.funded} − ${PRODUCT_PRICE} × (${list.length} orders − ${refunded.size} refunded)`,
      );
    if (balance < 0) fail(c, `${b.username}: negative balance ${balance}`);
    c.notes.push(
      `${b.username}: funded ${b.funded}, ${list.length} orders (${refunded.size} refunded), balance ${balance}; keys ${describeCounts(countBy(mine, (o) => String(o.status ?? "unknown")))}`,
    );
  }
  const owner = world.ownerToken;
  const rec = await get(api, "verify.reconciliation", "/v1/admin/ledger/reconciliation", owner, Reconciliation);
  reconcile(c, rec, world.buyers, balances);
  const cny = rec.currencies.find((x) => x.currency === CURRENCY);
  if (cny && cny.systemAccounts.revenue !== PRODUCT_PRICE * listed)
    fail(c, `reconciliation: revenue ${cny.systemAccounts.revenue}, ${listed} orders listed`);
  if (cny && (cny.systemAccounts.refunds ?? 0) !== -PRODUCT_PRICE * refundedListed)
    fail(c, `reconciliation: refunds ${cny.systemAccounts.refunds}, ${refundedListed} orders listed as refunded`);
  for (const op of replayPicks(money.ops)) {
    const token = op.kind === "refund" ? owner : op.buyer.accessToken;
    const wrong = await replay(api, op, token);
    if (wrong) fail(c, `replay of ${op.kind} key ${op.key} (${op.attempts} attempts in the load): ${wrong}`);
    else c.notes.push(`replayed ${op.kind} key ${op.key} (${op.attempts} attempts, ${op.status}): same answer`);
  }
  const retried = money.ops.filter((o) => o.attempts > 1);
  c.notes.push(
    `attempts: ${describeCounts(
      countBy(
        money.ops.flatMap((o) => o.answers.map((a) => `${o.kind} ${a}`)),
        (x) => x,
      ),
    )}`,
  );
  c.notes.push(
    `orders ${describeCounts(countBy(orders, (o) => String(o.status ?? "unknown")))}; refunds ${describeCounts(countBy(refunds, (o) => String(o.status ?? "unknown")))}; ${retried.length} operations retried with their key (${describeCounts(countBy(retried, (o) => `${o.kind} ${o.status ?? "unknown"}`))}); ${lostAnswers} of the retried 201s were created before their last attempt (a lost answer, replayed); ${fromUnknown} orders stored beyond the 201s (from keys left unknown)`,
  );
  for (const o of money.ops.filter((x) => x.status === null).slice(0, 5))
    c.notes.push(
      `unknown outcome: ${o.kind} key ${o.key} at ${new Date(o.at).toISOString().slice(11, 23)}, ${o.attempts} attempts over ${((o.lastAt - o.at) / 1000).toFixed(1)} s, answers ${o.answers.join(", ")}`,
    );
  return c;
}
