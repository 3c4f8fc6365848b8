import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { type AccountRef, postingOps } from "../../src/db/tenant/ledger";
import { newId } from "../../src/lib/ids";
import worker from "../../src/index";
import { usageFigures } from "../../src/workers/statistics/service";
import { as, bearer, registerUser } from "./auth-helpers";
import {
  commerceTenant,
  credit,
  expectReconciled,
  type Order,
  order,
  type Product,
  product,
  refund,
  rows,
  type User,
} from "./commerce-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";

const COLUMNS = "id,transactionId,createdAt,kind,account,userId,currency,amount,balanceAfter,orderId";
const DAY_MS = 86_400_000;

/** RFC 4180, just enough for the export: quoted cells with doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") record.push(cell), (cell = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(cell);
      records.push(record);
      (record = []), (cell = ""), i++;
    } else cell += ch;
  }
  expect(cell === "" && record.length === 0, "the last record ends with CRLF").toBe(true);
  return records;
}

interface EntryRow {
  id: string;
  transaction_id: string;
  created_at: number;
  kind: string;
  account_id: string;
  user_id: string | null;
  currency: string;
  amount: number;
  balance_after: number;
  order_id: string | null;
}

/** The window's entries as the CSV should show them, read straight from the table. */
async function expectedRows(slug: string, from: number, to: number): Promise<string[][]> {
  const entries = await rows<EntryRow>(
    slug,
    sql`SELECT * FROM ledger_entries WHERE created_at >= ${from} AND created_at < ${to} ORDER BY created_at, seq`,
  );
  return entries.map((e) => [
    e.id,
    e.transaction_id,
    new Date(e.created_at).toISOString(),
    e.kind,
    e.account_id,
    e.user_id ?? "",
    e.currency,
    String(e.amount),
    String(e.balance_after),
    e.order_id ?? "",
  ]);
}

const exportUrl = (from: number | string, to: number | string) => {
  const s = (v: number | string) => (typeof v === "number" ? new Date(v).toISOString() : v);
  return `/v1/admin/ledger/export?from=${encodeURIComponent(s(from))}&to=${encodeURIComponent(s(to))}`;
};

describe("ledger CSV export", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let quota: Product;

  beforeAll(async () => {
    ({ slug, owner } = await commerceTenant());
    quota = await product(slug, owner, {
      kind: "ai_quota",
      price: { amount: 100, currency: "CNY" },
      grants: { units: 5 },
    });
  });

  async function exportCsv(from: number | string, to: number | string): Promise<string[][]> {
    const res = await call(exportUrl(from, to), as(slug, owner));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    return parseCsv(await res.text());
  }

  it("holds exactly the window's entries in order, each currency summing to 0 over the whole ledger", async () => {
    const start = Date.now() - 1000;
    const [a, b] = [await registerUser(slug), await registerUser(slug)];
    await Promise.all([
      credit(slug, a.userId, 1000n),
      credit(slug, b.userId, 700n),
      credit(slug, b.userId, 50n, "USD"),
    ]);
    const placed = await Promise.all([
      order(slug, a, [{ productId: quota.id, quantity: 3 }]),
      order(slug, b, [{ productId: quota.id }]),
    ]);
    for (const r of placed) expect(r.status, await r.clone().text()).toBe(201);
    const first = await placed[0]!.json<Order>();
    expect((await refund(slug, owner, first.id)).status).toBe(200);
    const end = Date.now() + 1000;

    const res = await call(exportUrl(start, end), as(slug, owner));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="ledger-${new Date(start).toISOString()}-${new Date(end).toISOString()}.csv"`,
    );
    const [header, ...body] = parseCsv(await res.text());
    expect(header!.join(",")).toBe(COLUMNS);
    expect(body).toEqual(await expectedRows(slug, start, end));
    // 3 credits, 2 orders and a refund, two legs each at least.
    expect(body.length).toBeGreaterThanOrEqual(12);
    expect(body.filter((r) => r[3] === "refund" && r[9] === first.id).length).toBeGreaterThanOrEqual(2);

    // Everything this tenant ever wrote: each currency's amounts cancel out.
    const all = (await exportCsv(Date.now() - 300 * DAY_MS, Date.now() + DAY_MS)).slice(1);
    const sums = new Map<string, number>();
    for (const r of all) sums.set(r[6]!, (sums.get(r[6]!) ?? 0) + Number(r[7]));
    expect([...sums.keys()].sort()).toEqual(["CNY", "USD"]);
    for (const [currency, sum] of sums) expect(sum, currency).toBe(0);
    expect(
      all.some((r) => Number(r[7]) < 0 && /^-\d+$/.test(r[7]!)),
      "negative amounts are plain numbers",
    ).toBe(true);
    await expectReconciled(slug, owner);
  });

  it("a window without entries is the header alone", async () => {
    const text = await (
      await call(exportUrl(Date.now() - 10 * DAY_MS, Date.now() - 9 * DAY_MS), as(slug, owner))
    ).text();
    expect(text).toBe(`${COLUMNS}\r\n`);
  });

  it("streams more than a page (1,000 entries), entries of one instant included, without a gap or a repeat", async () => {
    const { slug: big, owner: bigOwner } = await commerceTenant();
    const u = await registerUser(big);
    const { db } = await tenantDbOf(big);
    const legs: { account: AccountRef; amount: bigint; currency: string }[] = [
      { account: { system: "promotions" }, amount: -1n, currency: "CNY" },
      { account: { user: u.userId }, amount: 1n, currency: "CNY" },
    ];
    const start = Date.now() - 1000;
    // 14 batches of 45 postings, each at one instant: 1,260 entries; the first page ends inside an instant.
    for (let i = 0; i < 14; i++) {
      const now = Date.now();
      const ops = Array.from({ length: 45 }, () =>
        postingOps(db, { id: newId(now), kind: "adjustment", legs }, sql`1`, now),
      );
      await db.batch(ops.flat() as never);
    }
    const end = Date.now() + 1000;
    const res = await call(exportUrl(start, end), as(big, bigOwner));
    expect(res.status).toBe(200);
    const [header, ...body] = parseCsv(await res.text());
    expect(header!.join(",")).toBe(COLUMNS);
    expect(body).toHaveLength(1260);
    expect(new Set(body.map((r) => r[0])).size).toBe(1260);
    expect(body).toEqual(await expectedRows(big, start, end));
    // The wallet's running balance reads 1 … 630 down the file.
    expect(body.filter((r) => r[5] === u.userId).map((r) => Number(r[8]))).toEqual(
      Array.from({ length: 630 }, (_, i) => i + 1),
    );
  }, 30_000);

  it("takes ledger:read: a member is refused, an API key with the scope is not", async () => {
    const url = exportUrl(Date.now() - DAY_MS, Date.now());
    const member = await registerUser(slug);
    await expectProblem(await call(url, as(slug, member)), 403, "forbidden");
    const mint = async (permissions: string[]) =>
      (
        await (
          await call("/v1/admin/api-keys", { method: "POST", ...as(slug, owner), json: { name: "books", permissions } })
        ).json<{ key: string }>()
      ).key;
    const reader = await mint(["ledger:read"]);
    const res = await call(url, { tenant: slug, headers: bearer(reader) });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.text()).startsWith(`${COLUMNS}\r\n`)).toBe(true);
    await expectProblem(
      await call(url, { tenant: slug, headers: bearer(await mint(["orders:read"])) }),
      403,
      "forbidden",
    );
  });

  it("refuses a window that is missing, reversed, empty, longer than 366 days or not ISO 8601", async () => {
    const now = Date.now();
    const bad = [
      "/v1/admin/ledger/export",
      `/v1/admin/ledger/export?from=${encodeURIComponent(new Date(now).toISOString())}`,
      exportUrl(now, now - DAY_MS),
      exportUrl(now, now),
      exportUrl(now - 367 * DAY_MS, now),
      exportUrl("yesterday", now),
      exportUrl("2024-03-01", "2024-03-02"),
    ];
    for (const url of bad) await expectProblem(await call(url, as(slug, owner)), 400, "validation_failed");
    // Exactly 366 days, and offsets other than Z, are fine.
    expect((await call(exportUrl(now - 366 * DAY_MS, now), as(slug, owner))).status).toBe(200);
    expect((await call(exportUrl("2024-03-01T08:00:00+08:00", "2024-03-02T00:00:00Z"), as(slug, owner))).status).toBe(
      200,
    );
  });
});

interface Stats {
  totals: Record<string, unknown>;
  series: Record<string, unknown>[];
}

async function stats(slug: string, owner: { tokens: User["tokens"] }, query: string): Promise<Stats> {
  const res = await call(`/v1/admin/stats?${query}`, as(slug, owner));
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Stats>();
}

describe("commerce statistics", () => {
  it("orders, refunds and sandbox top-ups reach the daily figures through the statistics queue", async () => {
    const { slug, owner } = await commerceTenant();
    const quota = await product(slug, owner, {
      kind: "ai_quota",
      price: { amount: 100, currency: "CNY" },
      grants: { units: 5 },
    });
    const u = await registerUser(slug);
    await credit(slug, u.userId, 1000n);
    const three = await order(slug, u, [{ productId: quota.id, quantity: 3 }]);
    expect(three.status, await three.clone().text()).toBe(201);
    expect((await order(slug, u, [{ productId: quota.id }])).status).toBe(201);
    expect((await refund(slug, owner, (await three.json<Order>()).id)).status).toBe(200);
    for (const [amount, currency] of [
      [1999, "CNY"],
      [500, "USD"],
    ] as const) {
      const res = await call("/v1/wallet/top-ups", {
        method: "POST",
        tenant: slug,
        headers: { ...bearer(u.tokens.accessToken), "idempotency-key": `k-${crypto.randomUUID()}` },
        json: { amount, currency },
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const { id } = await res.json<{ id: string }>();
      const done = await call(`/v1/payments/sandbox/${id}/complete`, { method: "POST", ...as(slug, u) });
      expect(await done.json()).toMatchObject({ delivered: 200 });
    }
    const today = new Date().toISOString().slice(0, 10);
    const day = (n: number) => new Date(Date.now() + n * DAY_MS).toISOString().slice(0, 10);
    await vi.waitFor(
      async () => {
        const r = await stats(slug, owner, `from=${day(-1)}&to=${day(1)}`);
        expect(r.totals).toMatchObject({
          orders: 2,
          refunds: 1,
          topUps: 2,
          revenue: { CNY: 400 },
          refunded: { CNY: 300 },
          toppedUp: { CNY: 1999, USD: 500 },
        });
        expect(r.series.find((p) => p.period === today)).toMatchObject({ orders: 2, revenue: { CNY: 400 } });
      },
      { timeout: 25_000, interval: 500 },
    );
  }, 45_000);

  it("money counts per currency on the event's day, once per event, in series, totals and usage", async () => {
    const { slug, tenantId, owner } = await commerceTenant();
    const ev = (type: string, day: string, data: Record<string, unknown>, id = `ev-${crypto.randomUUID()}`) => ({
      specversion: "1.0",
      id,
      source: `/tenants/${tenantId}`,
      type,
      time: `${day}T12:00:00.000Z`,
      tenantid: tenantId,
      data,
    });
    const paid = (day: string, total: number, currency: string) =>
      ev("order.paid", day, { orderId: newId(), userId: "u1", total, currency, items: [] });
    const twice = paid("2024-03-04", 100, "CNY");
    const events = [
      twice,
      twice,
      paid("2024-03-04", 250, "USD"),
      paid("2024-03-06", 40, "COIN"),
      ev("order.refunded", "2024-03-06", {
        orderId: "o1",
        userId: "u1",
        total: 100,
        currency: "CNY",
        reason: "x",
        by: "a",
      }),
      ev("payment.succeeded", "2024-03-05", {
        topUpId: "t1",
        userId: "u1",
        amount: 5000,
        currency: "CNY",
        provider: "sandbox",
        transactionId: "tx1",
      }),
    ];
    const batch = createMessageBatch<unknown>(
      "canopy-statistics",
      events.map((body) => ({ id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(events.length);

    const r = await stats(slug, owner, "from=2024-03-04&to=2024-03-06");
    expect(r.series.map((p) => [p.period, p.orders, p.revenue, p.refunds, p.refunded, p.topUps, p.toppedUp])).toEqual([
      ["2024-03-04", 2, { CNY: 100, USD: 250 }, 0, {}, 0, {}],
      ["2024-03-05", 0, {}, 0, {}, 1, { CNY: 5000 }],
      ["2024-03-06", 1, { COIN: 40 }, 1, { CNY: 100 }, 0, {}],
    ]);
    expect(r.totals).toMatchObject({
      orders: 3,
      revenue: { CNY: 100, USD: 250, COIN: 40 },
      refunds: 1,
      refunded: { CNY: 100 },
      topUps: 1,
      toppedUp: { CNY: 5000 },
      activeUsers: 1,
    });
    const usage = await call(`/admin/v1/tenants/${slug}/usage?from=2024-03-04&to=2024-03-06&granularity=month`, {
      admin: true,
    });
    expect((await usage.json<Stats>()).totals).toMatchObject({ orders: 3, revenue: { CNY: 100, USD: 250, COIN: 40 } });
    // The usage list's figures of one tenant (its page depends on every other test's tenants).
    const figures = await usageFigures((await tenantDbOf(slug)).db, "2024-03-04", "2024-03-06");
    expect(figures).toMatchObject({ orders: 3, refunded: { CNY: 100 }, topUps: 1, toppedUp: { CNY: 5000 } });
    expect(await usageFigures((await tenantDbOf(slug)).db, "2024-03-05", "2024-03-05")).toMatchObject({
      orders: 0,
      revenue: {},
      toppedUp: { CNY: 5000 },
    });
  });
});
