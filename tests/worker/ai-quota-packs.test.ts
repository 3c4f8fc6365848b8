import { sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { tenantDb } from "../../src/db/tenant-db";
import { hold, packShare, settle } from "../../src/workers/ai-core/gate";
import { aiRows, moderate, quotaOf } from "./ai-helpers";
import { registerUser } from "./auth-helpers";
import {
  ageVip,
  commerceTenant,
  credit,
  expectReconciled,
  type Order,
  order,
  product,
  refund,
  sweepScope,
} from "./commerce-helpers";

const DAY = 86_400_000;

/**
 * Recharge through commerce: a paid `ai_quota` order's units are usable at once; a VIP level adds
 * its bonus to the limit; a refund takes back what is unused, and units held by a running call
 * when the refund lands go to `revoked` when they come back.
 */
/** A tenant whose users have `units` a day, its 10-unit `ai_quota` pack, and a user with money to buy it. */
async function packTenant(units: number) {
  const { slug, owner } = await commerceTenant({ ai: { quota: { units } } });
  const pack = await product(slug, owner, {
    kind: "ai_quota",
    price: { amount: 500, currency: "CNY" },
    grants: { units: 10 },
  });
  const u = await registerUser(slug);
  await credit(slug, u.userId, 5_000n);
  return { slug, owner, pack, u };
}

describe("AI quota: packs and VIP", () => {
  it("a paid pack is usable at once, after the period allowance", async () => {
    const { slug, owner, pack, u } = await packTenant(2);
    const res = await order(slug, u, [{ productId: pack.id }]);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await quotaOf(slug, u)).toMatchObject({ limit: 2, packs: 10, remaining: 12 });
    const rs = await Promise.all(Array.from({ length: 20 }, () => moderate(slug, u)));
    expect(rs.filter((r) => r.status === 200).length).toBe(12);
    expect(rs.filter((r) => r.status === 429).length).toBe(8);
    const [g] = await aiRows<{ used: number; revoked: number }>(
      slug,
      sql`SELECT used, revoked FROM order_grants WHERE user_id = ${u.userId} AND kind = 'ai_quota'`,
    );
    expect(g).toEqual({ used: 10, revoked: 0 });
    await expectReconciled(slug, owner);
  });

  it("a VIP level adds its bonus: gold (+25 %) makes 1,000 units 1,250; the downgrade at expiry removes it", async () => {
    // Leases off: every call is counted at the object at once (a lease shows as `reserved`).
    const { slug, owner } = await commerceTenant({ ai: { lease: { enabled: false } } });
    const gold = await product(slug, owner, {
      kind: "vip",
      price: { amount: 9000, currency: "CNY" },
      grants: { level: 2, days: 30 },
    });
    const u = await registerUser(slug);
    await credit(slug, u.userId, 20_000n);
    expect(await quotaOf(slug, u)).toMatchObject({ limit: 1000, bonus: 0 });
    const res = await order(slug, u, [{ productId: gold.id }]);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await quotaOf(slug, u)).toMatchObject({ limit: 1250, bonus: 250 });
    expect((await moderate(slug, u)).status).toBe(200);
    expect(await quotaOf(slug, u)).toMatchObject({ limit: 1250, used: 1, remaining: 1249 });
    await ageVip(slug, u.userId, 31 * DAY);
    expect(await quotaOf(slug, u)).toMatchObject({ limit: 1000, bonus: 0, used: 1 });
  });

  it("a VIP upgrade reaches the quota object through its event: calls use the bonus without a quota read", async () => {
    const { slug, owner } = await commerceTenant({ ai: { quota: { units: 4 }, lease: { enabled: false } } });
    const gold = await product(slug, owner, {
      kind: "vip",
      price: { amount: 9000, currency: "CNY" },
      grants: { level: 2, days: 30 },
    });
    const u = await registerUser(slug);
    await credit(slug, u.userId, 20_000n);
    for (let i = 0; i < 4; i++) expect((await moderate(slug, u)).status).toBe(200);
    expect((await moderate(slug, u)).status).toBe(429);
    expect((await order(slug, u, [{ productId: gold.id }])).status).toBe(201);
    // 4 + 25 % = 5: the fifth call runs once the ai consumer has pushed the new level.
    await vi.waitFor(async () => expect((await moderate(slug, u)).status).toBe(200), {
      timeout: 15_000,
      interval: 250,
    });
    expect((await moderate(slug, u)).status).toBe(429);
  });

  it("a refund while a call holds pack units: the rest is revoked at once, the held units when they return", async () => {
    const { slug, owner, pack, u } = await packTenant(0);
    const placed = await order(slug, u, [{ productId: pack.id }]);
    const o = await placed.json<Order>();
    const s = await sweepScope(slug);
    const grantRow = () =>
      aiRows<{ used: number; revoked: number }>(
        slug,
        sql`SELECT used, revoked FROM order_grants WHERE order_id = ${o.id}`,
      );
    // A call holds 3 units of the pack (the period allowance is 0).
    const held = await hold(s, { userId: u.userId, feature: "chat", estimate: 3, ttlMs: 60_000 }, () => undefined);
    expect(await grantRow()).toEqual([{ used: 3, revoked: 0 }]);
    const r = await refund(slug, owner, o.id);
    expect(r.status, await r.clone().text()).toBe(200);
    expect(await grantRow()).toEqual([{ used: 3, revoked: 7 }]);
    // The call used 1: the 2 it gives back belong to a refunded order, so they are revoked too.
    await settle(s, held, 1);
    expect(await grantRow()).toEqual([{ used: 1, revoked: 9 }]);
    expect(await quotaOf(slug, u)).toMatchObject({ packs: 0, remaining: 0, status: "exhausted" });
    expect(await aiRows(slug, sql`SELECT * FROM ai_pack_holds`)).toEqual([]);
    await expectReconciled(slug, owner);
  });

  it("a settle the database fails halfway can run again: it finishes what was left, returning nothing twice", async () => {
    const { slug, owner, pack, u } = await packTenant(2);
    const placed = await order(slug, u, [{ productId: pack.id }]);
    const o = await placed.json<Order>();
    const s = await sweepScope(slug);
    // 2 units from the period allowance (the object), 3 from the pack (the database).
    const held = await hold(s, { userId: u.userId, feature: "chat", estimate: 5, ttlMs: 60_000 }, () => undefined);
    expect(packShare(held, 4)).toBe(2);
    // The database unreachable (a real client to a closed port): the object's part settles, the packs' fails.
    const down = { ...s, db: tenantDb({ url: "http://127.0.0.1:9", token: "t" }) };
    await expect(settle(down, held, 4)).rejects.toThrow();
    expect(held.user).not.toBeNull();
    expect(await quotaOf(slug, u)).toMatchObject({ used: 2, reserved: 0 });
    // Run again with the database back: the packs keep 2 of their 3, the object is not charged twice.
    await settle(s, held, 4);
    expect(held.user).toBeNull();
    expect(await aiRows(slug, sql`SELECT used, revoked FROM order_grants WHERE order_id = ${o.id}`)).toEqual([
      { used: 2, revoked: 0 },
    ]);
    expect(await aiRows(slug, sql`SELECT * FROM ai_pack_holds`)).toEqual([]);
    expect(await quotaOf(slug, u)).toMatchObject({ used: 2, reserved: 0, packs: 8 });
    // A third run finds nothing left to do.
    await settle(s, held, 4);
    expect(await quotaOf(slug, u)).toMatchObject({ used: 2, reserved: 0, packs: 8 });
    await expectReconciled(slug, owner);
  });

  it("pack holds of a call that never settled are returned by the sweep, once", async () => {
    const { slug, owner, pack, u } = await packTenant(0);
    await order(slug, u, [{ productId: pack.id }]);
    const s = await sweepScope(slug);
    const held = await hold(s, { userId: u.userId, feature: "chat", estimate: 4, ttlMs: 1 }, () => undefined);
    await new Promise((r) => setTimeout(r, 20));
    const { sweepPackHolds } = await import("../../src/db/tenant/ai-quota");
    expect(await sweepPackHolds(s.db, Date.now())).toBe(1);
    expect(await quotaOf(slug, u)).toMatchObject({ packs: 10 });
    // The late settle finds its hold gone: nothing is returned twice.
    await settle(s, held, 0);
    expect(await quotaOf(slug, u)).toMatchObject({ packs: 10 });
    await expectReconciled(slug, owner);
  });
});
