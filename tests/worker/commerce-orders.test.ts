import { sql } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { as, bearer, registerUser } from "./auth-helpers";
import {
  balance,
  commerceTenant,
  credit,
  expectReconciled,
  key,
  type Order,
  order,
  type Product,
  product,
  refund,
  rows,
  type User,
} from "./commerce-helpers";
import { call, expectProblem } from "./helpers";

/**
 * Wallet orders and refunds: debit and grant happen together or not at all, under concurrency
 * and retries; one refund per order; the ledger reconciles after every test.
 */
describe("orders", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let quota: Product;

  beforeAll(async () => {
    ({ slug, owner } = await commerceTenant({
      commerce: { currencies: ["CNY", "USD"], virtualCurrencies: [{ code: "COIN", name: "Coins" }] },
    }));
    quota = await product(slug, owner, {
      kind: "ai_quota",
      price: { amount: 100, currency: "CNY" },
      grants: { units: 50 },
    });
  });
  afterEach(async () => {
    await expectReconciled(slug, owner);
  });

  const count = async (q: ReturnType<typeof sql>) => (await rows<{ n: number }>(slug, q))[0]!.n;

  it("100 parallel orders against a balance that covers 10: exactly 10 succeed, the balance ends at 0", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 1000n);
    const answers = await Promise.all(Array.from({ length: 100 }, () => order(slug, u, [{ productId: quota.id }])));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 402)).toHaveLength(90);
    for (const r of answers.filter((a) => a.status === 402)) await expectProblem(r, 402, "insufficient_funds");
    expect(await balance(slug, u)).toBe(0);
    expect(await count(sql`SELECT count(*) AS n FROM orders WHERE user_id = ${u.userId}`)).toBe(10);
    expect(await count(sql`SELECT count(*) AS n FROM outbox WHERE type = 'order.paid' AND subject = ${u.userId}`)).toBe(
      10,
    );
    expect(
      await count(sql`SELECT sum(quantity) AS n FROM order_grants WHERE user_id = ${u.userId} AND kind = 'ai_quota'`),
    ).toBe(500);
    const entries = await rows<{ balance_after: number }>(
      slug,
      sql`SELECT balance_after FROM ledger_entries WHERE user_id = ${u.userId} ORDER BY seq`,
    );
    expect(entries.every((e) => e.balance_after >= 0)).toBe(true);
  });

  it("an order answers its snapshot, is the buyer's own, and shows in the ledger", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 500n);
    const res = await order(slug, u, [{ productId: quota.id, quantity: 3 }]);
    expect(res.status, await res.clone().text()).toBe(201);
    const o = await res.json<Order>();
    expect(o).toMatchObject({
      userId: u.userId,
      status: "fulfilled",
      total: { amount: 300, currency: "CNY" },
      items: [{ productId: quota.id, quantity: 3, total: { amount: 300, currency: "CNY" } }],
    });
    expect(o.paidAt).toBeDefined();
    expect(await (await call(`/v1/orders/${o.id}`, as(slug, u))).json()).toEqual(o);
    expect((await (await call("/v1/orders", as(slug, u))).json<{ items: Order[] }>()).items.map((i) => i.id)).toEqual([
      o.id,
    ]);
    const tx = await (await call("/v1/wallet/transactions", as(slug, u))).json<{ items: unknown[] }>();
    expect(tx.items[0]).toMatchObject({ kind: "order", amount: -300, balanceAfter: 200, orderId: o.id });
    // Another user, another tenant's admin: no such order.
    const other = await registerUser(slug);
    await expectProblem(await call(`/v1/orders/${o.id}`, as(slug, other)), 404, "order_not_found");
    const { slug: elsewhere, owner: theirs } = await commerceTenant();
    await expectProblem(await call(`/v1/admin/orders/${o.id}`, as(elsewhere, theirs)), 404, "order_not_found");
    await expectProblem(await refund(elsewhere, theirs, o.id), 404, "order_not_found");
    // A member is no admin; an API key needs the permission.
    await expectProblem(await call("/v1/admin/orders", as(slug, other)), 403, "forbidden");
    await expectProblem(await refund(slug, other, o.id), 403, "forbidden");
    const created = await (
      await call("/v1/admin/api-keys", {
        method: "POST",
        ...as(slug, owner),
        json: { name: "books", permissions: ["orders:read"] },
      })
    ).json<{ key: string }>();
    const books = { tenant: slug, headers: bearer(created.key) };
    expect((await call(`/v1/admin/orders?userId=${u.userId}`, books)).status).toBe(200);
    const byKey = await call(`/v1/admin/orders/${o.id}/refund`, {
      method: "POST",
      tenant: slug,
      headers: { ...bearer(created.key), "idempotency-key": key() },
      json: { reason: "no" },
    });
    await expectProblem(byKey, 403, "forbidden");
    await expectProblem(await call("/v1/orders", books), 403, "user_required");
  });

  it("one key is one order: parallel repeats replay it, another body is refused, a 402 stays a 402", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 100n);
    const k = key();
    const burst = await Promise.all(Array.from({ length: 10 }, () => order(slug, u, [{ productId: quota.id }], k)));
    const statuses = burst.map((r) => r.status);
    expect(
      statuses.every((s) => s === 201 || s === 409),
      String(statuses),
    ).toBe(true);
    const ids = new Set(
      (await Promise.all(burst.filter((r) => r.status === 201).map((r) => r.json<Order>()))).map((o) => o.id),
    );
    expect(ids.size).toBe(1);
    const replay = await order(slug, u, [{ productId: quota.id }], k);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await replay.json<Order>()).id).toBe([...ids][0]);
    await expectProblem(await order(slug, u, [{ productId: quota.id, quantity: 2 }], k), 422, "idempotency_mismatch");
    expect(await count(sql`SELECT count(*) AS n FROM orders WHERE user_id = ${u.userId}`)).toBe(1);

    // Out of money: 402 with nothing written, and the same key keeps answering 402 after a top-up.
    const poor = key();
    const before = await count(sql`SELECT count(*) AS n FROM ledger_entries`);
    await expectProblem(await order(slug, u, [{ productId: quota.id }], poor), 402, "insufficient_funds");
    expect(await count(sql`SELECT count(*) AS n FROM ledger_entries`)).toBe(before);
    await credit(slug, u.userId, 100n);
    const again = await order(slug, u, [{ productId: quota.id }], poor);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    await expectProblem(again, 402, "insufficient_funds");
    expect((await order(slug, u, [{ productId: quota.id }])).status).toBe(201);
    expect(await balance(slug, u)).toBe(0);
    await expectProblem(
      await call("/v1/orders", { method: "POST", ...as(slug, u), json: { items: [{ productId: quota.id }] } }),
      400,
      "idempotency_key_required",
    );
  });

  it("refuses bad items: quantities, repeats, unknown, inactive, deleted, mixed currencies", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 10_000n);
    for (const quantity of [0, 101, 1.5, -1, "2"]) {
      await expectProblem(await order(slug, u, [{ productId: quota.id, quantity } as never]), 400, "validation_failed");
    }
    await expectProblem(await order(slug, u, []), 400, "validation_failed");
    await expectProblem(
      await order(slug, u, [{ productId: quota.id }, { productId: quota.id }]),
      400,
      "validation_failed",
    );
    await expectProblem(await order(slug, u, [{ productId: "01nosuchproduct" }]), 404, "product_not_found");
    const usd = await product(slug, owner, {
      kind: "ai_quota",
      price: { amount: 5, currency: "USD" },
      grants: { units: 1 },
    });
    await expectProblem(
      await order(slug, u, [{ productId: quota.id }, { productId: usd.id }]),
      422,
      "currency_mismatch",
    );
    const off = await product(slug, owner, {
      kind: "ai_quota",
      price: { amount: 5, currency: "CNY" },
      grants: { units: 1 },
    });
    await call(`/v1/admin/products/${off.id}`, { method: "PATCH", ...as(slug, owner), json: { active: false } });
    await expectProblem(await order(slug, u, [{ productId: off.id }]), 409, "product_unavailable");
    expect((await call(`/v1/admin/products/${off.id}`, { method: "DELETE", ...as(slug, owner) })).status).toBe(204);
    await expectProblem(await order(slug, u, [{ productId: off.id }]), 404, "product_not_found");
    // 100 × 10^10 is the cap of a total; one more minor unit is over it.
    const huge = await product(slug, owner, {
      kind: "ai_quota",
      price: { amount: 10_000_000_000, currency: "CNY" },
      grants: { units: 1 },
    });
    await expectProblem(await order(slug, u, [{ productId: huge.id, quantity: 100 }]), 402, "insufficient_funds");
    await expectProblem(
      await order(slug, u, [{ productId: huge.id, quantity: 100 }, { productId: quota.id }]),
      400,
      "validation_failed",
    );
    expect(await count(sql`SELECT count(*) AS n FROM orders WHERE user_id = ${u.userId}`)).toBe(0);
    expect(await balance(slug, u)).toBe(10_000);
  });

  it("a price change racing orders: every order pays a price the product had, the wallet pays exactly the totals", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 100_000n);
    const p = await product(slug, owner, {
      kind: "ai_quota",
      price: { amount: 100, currency: "CNY" },
      grants: { units: 1 },
    });
    const [patch, ...answers] = await Promise.all([
      call(`/v1/admin/products/${p.id}`, {
        method: "PATCH",
        ...as(slug, owner),
        json: { price: { amount: 200, currency: "CNY" } },
      }),
      ...Array.from({ length: 20 }, () => order(slug, u, [{ productId: p.id }])),
    ]);
    expect(patch!.status).toBe(200);
    const placed = await Promise.all(answers.filter((r) => r.status === 201).map((r) => r.json<Order>()));
    for (const r of answers.filter((a) => a.status !== 201)) await expectProblem(r, 409, "product_unavailable");
    expect(placed.every((o) => o.total.amount === 100 || o.total.amount === 200)).toBe(true);
    const spent = placed.reduce((s, o) => s + o.total.amount, 0);
    expect(await balance(slug, u)).toBe(100_000 - spent);
  });

  it("one refund per order, however many race; the money comes back from `refunds`", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 100n);
    const o = await (await order(slug, u, [{ productId: quota.id }])).json<Order>();
    const answers = await Promise.all(Array.from({ length: 10 }, () => refund(slug, owner, o.id, "duplicate charge")));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    const done = await answers.find((r) => r.status === 200)!.json<Order>();
    expect(done).toMatchObject({ id: o.id, status: "refunded", refund: { reason: "duplicate charge" } });
    expect(await balance(slug, u)).toBe(100);
    await expectProblem(await refund(slug, owner, o.id), 409, "order_not_refundable");
    expect(
      await count(sql`SELECT count(*) AS n FROM ledger_transactions WHERE order_id = ${o.id} AND kind = 'refund'`),
    ).toBe(1);
    expect(await count(sql`SELECT revoked AS n FROM order_grants WHERE order_id = ${o.id} AND kind = 'ai_quota'`)).toBe(
      50,
    );
    const reverses = await rows<{ reverses_id: string }>(
      slug,
      sql`SELECT reverses_id FROM ledger_transactions WHERE order_id = ${o.id} AND kind = 'refund'`,
    );
    const paid = await rows<{ id: string }>(
      slug,
      sql`SELECT id FROM ledger_transactions WHERE order_id = ${o.id} AND kind = 'order'`,
    );
    expect(reverses[0]!.reverses_id).toBe(paid[0]!.id);
    expect(
      await count(
        sql`SELECT count(*) AS n FROM outbox WHERE type = 'order.refunded' AND json_extract(data, '$.orderId') = ${o.id}`,
      ),
    ).toBe(1);
    // The same refund key replays the first answer.
    const k = key();
    const other = await (await order(slug, u, [{ productId: quota.id }])).json<Order>();
    const first = await refund(slug, owner, other.id, "r", k);
    expect(first.status).toBe(200);
    const replay = await refund(slug, owner, other.id, "r", k);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(await first.json());
  });

  it("a refund racing an order that spends the same money: both end consistent", async () => {
    for (let i = 0; i < 5; i++) {
      const u = await registerUser(slug);
      await credit(slug, u.userId, 100n);
      const o = await (await order(slug, u, [{ productId: quota.id }])).json<Order>();
      const [r, next] = await Promise.all([refund(slug, owner, o.id), order(slug, u, [{ productId: quota.id }])]);
      expect(r.status).toBe(200);
      expect([201, 402]).toContain(next.status);
      expect(await balance(slug, u)).toBe(next.status === 201 ? 0 : 100);
    }
  });

  it("virtual currency granted by an order is clawed back on refund as far as the wallet holds it", async () => {
    const coins = await product(slug, owner, {
      kind: "currency",
      price: { amount: 300, currency: "CNY" },
      grants: { amount: 1000, currency: "COIN" },
    });
    const spend = await product(slug, owner, {
      kind: "ai_quota",
      price: { amount: 400, currency: "COIN" },
      grants: { units: 1 },
    });
    const u = await registerUser(slug);
    await credit(slug, u.userId, 300n);
    const o = await (await order(slug, u, [{ productId: coins.id }])).json<Order>();
    expect(await balance(slug, u, "COIN")).toBe(1000);
    expect((await order(slug, u, [{ productId: spend.id }])).status).toBe(201);
    expect(await balance(slug, u, "COIN")).toBe(600);
    const r = await (await refund(slug, owner, o.id, "changed my mind")).json<Order>();
    expect(r.refund!.clawedBack).toEqual([{ currency: "COIN", amount: 600, shortfall: 400 }]);
    expect(await balance(slug, u, "COIN")).toBe(0);
    expect(await balance(slug, u)).toBe(300);
    await expectProblem(
      await call("/v1/admin/products", {
        method: "POST",
        ...as(slug, owner),
        json: {
          sku: "coin-for-coin",
          name: "x",
          kind: "currency",
          price: { amount: 1, currency: "COIN" },
          grants: { amount: 5, currency: "COIN" },
        },
      }),
      422,
      "currency_mismatch",
    );
  });

  it("content unlocks once, is revoked by a refund, and can be bought again", async () => {
    const author = await registerUser(slug);
    const post = await (
      await call("/v1/posts", { method: "POST", ...as(slug, author), json: { title: "Deep dive", body: "…" } })
    ).json<{ id: string }>();
    const p = await product(slug, owner, {
      kind: "content",
      price: { amount: 50, currency: "CNY" },
      grants: { postId: post.id },
    });
    const u = await registerUser(slug);
    await credit(slug, u.userId, 200n);
    const [a, b] = await Promise.all([order(slug, u, [{ productId: p.id }]), order(slug, u, [{ productId: p.id }])]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    await expectProblem(loser, 409, "already_owned");
    await expectProblem(await order(slug, u, [{ productId: p.id, quantity: 2 }]), 400, "validation_failed");
    const o = await (a.status === 201 ? a : b).json<Order>();
    await refund(slug, owner, o.id);
    expect(
      await count(sql`SELECT count(*) AS n FROM content_unlocks WHERE user_id = ${u.userId} AND revoked_at IS NULL`),
    ).toBe(0);
    expect((await order(slug, u, [{ productId: p.id }])).status).toBe(201);
    expect(await balance(slug, u)).toBe(150);
  });
});
