import { sql } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { vipSweep } from "../../src/workers/commerce/vip-sweep";
import { fromBase64url } from "../../src/lib/ids";
import { as, login, registerUser } from "./auth-helpers";
import {
  ageVip,
  commerceTenant,
  credit,
  expectReconciled,
  type Order,
  order,
  type Product,
  product,
  refund,
  rows,
  sweepScope,
  type User,
} from "./commerce-helpers";
import { call } from "./helpers";

const DAY = 86_400_000;

interface Vip {
  level: number;
  name: string | null;
  since: string | null;
  expiresAt: string | null;
  benefits: { discountPercent: number; badge: string | null; aiQuotaBonusPercent: number };
}

/**
 * VIP memberships: extension, upgrade with proration, a lower level queued, the downgrade at
 * expiry seen by requests before any sweep, notices once, refunds removing exactly the order's
 * time. Time passes by moving the user's schedule into the past (ageVip).
 */
describe("VIP memberships", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let silver: Product;
  let gold: Product;
  let quota: Product;

  beforeAll(async () => {
    ({ slug, owner } = await commerceTenant());
    silver = await product(slug, owner, {
      kind: "vip",
      price: { amount: 3000, currency: "CNY" },
      grants: { level: 1, days: 30 },
    });
    gold = await product(slug, owner, {
      kind: "vip",
      price: { amount: 9000, currency: "CNY" },
      grants: { level: 2, days: 30 },
    });
    quota = await product(slug, owner, {
      kind: "ai_quota",
      price: { amount: 1005, currency: "CNY" },
      grants: { units: 10 },
    });
  });
  afterEach(async () => {
    await expectReconciled(slug, owner);
  });

  const vip = async (u: User) => (await call("/v1/me/vip", as(slug, u))).json<Vip>();
  const buy = async (u: User, p: Product) => {
    const res = await order(slug, u, [{ productId: p.id }]);
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json<Order>();
  };
  const member = async (money = 100_000n) => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, money);
    return u;
  };
  const events = async (u: User, type: string) =>
    rows<{ data: string }>(
      slug,
      sql`SELECT data FROM outbox WHERE type = ${type} AND subject = ${u.userId} ORDER BY id`,
    );
  const sweep = async () => vipSweep(await sweepScope(slug), Date.now());
  const ms = (iso: string | null) => (iso ? Date.parse(iso) : Number.NaN);

  it("a user without a membership is level 0", async () => {
    const u = await registerUser(slug);
    expect(await vip(u)).toEqual({
      level: 0,
      name: null,
      since: null,
      expiresAt: null,
      benefits: { aiQuotaBonusPercent: 0, discountPercent: 0, badge: null, contentAccess: false, maxUploadBytes: null },
    });
  });

  it("buying the current level again extends it", async () => {
    const u = await member();
    const t0 = Date.now();
    await buy(u, silver);
    const first = await vip(u);
    expect(first).toMatchObject({ level: 1, name: "silver", benefits: { badge: "silver", discountPercent: 5 } });
    await buy(u, silver);
    const second = await vip(u);
    expect(second.since).toBe(first.since);
    expect(ms(second.expiresAt) - ms(first.expiresAt)).toBe(30 * DAY);
    expect(ms(second.expiresAt) - t0).toBeGreaterThanOrEqual(60 * DAY);
    expect(ms(second.expiresAt) - Date.now()).toBeLessThanOrEqual(60 * DAY);
    expect((await events(u, "vip.changed")).map((e) => JSON.parse(e.data).reason)).toEqual(["purchase", "purchase"]);
  });

  it("a higher level starts now and converts the remaining days at their value", async () => {
    const u = await member();
    await buy(u, silver);
    await ageVip(slug, u.userId, 20 * DAY);
    const before = Date.now();
    await buy(u, gold);
    const after = Date.now();
    const v = await vip(u);
    expect(v).toMatchObject({ level: 2, name: "gold" });
    // 10 days of silver paid 3000 for 30 days buy 10 × 3000/9000 days of gold: 3 d 8 h.
    const extra = 288_000_000;
    // The silver's remaining time shrank by the milliseconds between the two purchases (÷ 3 as gold).
    expect(ms(v.expiresAt)).toBeGreaterThanOrEqual(before + 30 * DAY + extra - 1000);
    expect(ms(v.expiresAt)).toBeLessThanOrEqual(after + 30 * DAY + extra);
    const live = await rows<{ level: number; source: string; revoked_at: number | null }>(
      slug,
      sql`SELECT level, source, revoked_at FROM vip_periods WHERE user_id = ${u.userId} ORDER BY starts_at, created_at`,
    );
    expect(live.filter((p) => p.revoked_at === null).map((p) => [p.level, p.source])).toEqual([
      [1, "order"],
      [2, "order"],
      [2, "conversion"],
    ]);
  });

  it("a lower level bought under a higher one starts when the higher ends", async () => {
    const u = await member();
    await buy(u, gold);
    const goldEnds = ms((await vip(u)).expiresAt);
    await buy(u, silver);
    expect(ms((await vip(u)).expiresAt)).toBe(goldEnds);
    await ageVip(slug, u.userId, 30 * DAY + 1000);
    const later = await vip(u);
    expect(later.level).toBe(1);
    expect(ms(later.expiresAt) - Date.now()).toBeGreaterThan(29 * DAY);
  });

  it("at expiry a request sees the downgrade before any sweep; the sweep announces it once", async () => {
    const u = await member();
    await buy(u, silver);
    await ageVip(slug, u.userId, 30 * DAY - 2 * DAY);
    await sweep();
    expect((await events(u, "vip.expiring")).map((e) => JSON.parse(e.data).level)).toEqual([1]);
    await sweep();
    expect(await events(u, "vip.expiring")).toHaveLength(1);
    await ageVip(slug, u.userId, 2 * DAY + 1);
    expect((await vip(u)).level).toBe(0);
    await sweep();
    await sweep();
    const changed = (await events(u, "vip.changed")).map((e) => JSON.parse(e.data));
    expect(changed.map((e) => [e.reason, e.level, e.previousLevel])).toEqual([
      ["purchase", 1, 0],
      ["expired", 0, 1],
    ]);
    expect(await events(u, "vip.expiring")).toHaveLength(1);
  });

  it("the member's discount applies to other products, rounded down", async () => {
    const u = await member();
    await buy(u, gold);
    const o = await buy(u, quota);
    // 10% off 1005 is 100.5: the member pays 905.
    expect(o.total.amount).toBe(905);
    expect(o.items[0]).toMatchObject({ discount: { amount: 100 } });
  });

  it("a refund removes exactly the order's remaining time; later periods move up", async () => {
    const u = await member();
    await buy(u, silver);
    const second = await buy(u, silver);
    const end = ms((await vip(u)).expiresAt);
    expect((await refund(slug, owner, second.id)).status).toBe(200);
    expect(end - ms((await vip(u)).expiresAt)).toBe(30 * DAY);
    const g = await buy(u, gold);
    expect((await vip(u)).level).toBe(2);
    expect((await refund(slug, owner, g.id)).status).toBe(200);
    // The silver time converted into gold belongs to the silver order: refunding gold leaves it,
    // as gold time moved up to now (30 days of silver at 3000 are 10 days of gold at 9000).
    const back = await vip(u);
    expect(back.level).toBe(2);
    expect(Math.abs(ms(back.expiresAt) - Date.now() - 10 * DAY)).toBeLessThan(60_000);
    const changed = (await events(u, "vip.changed")).map((e) => JSON.parse(e.data).reason);
    expect(changed).toContain("refund");
  });

  it("the level shows on the public profile and, as a hint, in new access tokens", async () => {
    const u = await member();
    const viewer = await registerUser(slug);
    const profile = async () =>
      (await (await call(`/v1/users/${u.userId}`, as(slug, viewer))).json<{ vip: unknown }>()).vip;
    expect(await profile()).toBeNull();
    await buy(u, gold);
    expect(await profile()).toEqual({ level: 2, name: "gold", badge: "gold" });
    const claimsOfLogin = async () => {
      const res = await login(slug, u.username, u.password);
      const { accessToken } = await res.json<{ accessToken: string }>();
      return JSON.parse(new TextDecoder().decode(fromBase64url(accessToken.split(".")[1]!)));
    };
    expect(await claimsOfLogin()).toMatchObject({ vip: 2, roles: ["member"] });
    await ageVip(slug, u.userId, 31 * DAY);
    expect(await profile()).toBeNull();
    // The level read with the account at sign-in is the one live now: the ended period counts for nothing.
    expect(await claimsOfLogin()).toMatchObject({ vip: 0, roles: ["member"] });
  });

  it("a level's maxUploadBytes lets its members upload more than the tenant's limit", async () => {
    const { slug: t, owner: o } = await commerceTenant({
      limits: { maxUploadBytes: 2048 },
      vip: {
        levels: [
          { level: 1, name: "silver", benefits: { maxUploadBytes: 8192 } },
          { level: 2, name: "gold" },
        ],
      },
    });
    const p = await product(t, o, {
      kind: "vip",
      price: { amount: 10, currency: "CNY" },
      grants: { level: 1, days: 1 },
    });
    const u = await registerUser(t);
    await credit(t, u.userId, 10n);
    const send = async () => {
      const form = new FormData();
      // A PNG's signature and header, padded: recognised as an image, 4 KiB long.
      const bytes = new Uint8Array(4096);
      bytes.set(
        fromBase64url("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg"),
      );
      form.set("file", new Blob([bytes], { type: "image/png" }), "big.png");
      form.set("purpose", "attachment");
      return call("/v1/files", { method: "POST", ...as(t, u), body: form });
    };
    const before = await send();
    expect(before.status, await before.clone().text()).toBe(413);
    expect((await order(t, u, [{ productId: p.id }])).status).toBe(201);
    const after = await send();
    expect(after.status, await after.clone().text()).toBe(201);
    await expectReconciled(t, o);
  });

  it("ten parallel purchases by one buyer make one consistent schedule", async () => {
    const u = await member();
    const answers = await Promise.all(Array.from({ length: 10 }, () => order(slug, u, [{ productId: silver.id }])));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(201));
    const live = await rows<{ starts_at: number; ends_at: number }>(
      slug,
      sql`SELECT starts_at, ends_at FROM vip_periods WHERE user_id = ${u.userId} AND revoked_at IS NULL ORDER BY starts_at`,
    );
    expect(live).toHaveLength(10);
    for (let i = 1; i < live.length; i++) expect(live[i]!.starts_at).toBe(live[i - 1]!.ends_at);
    const v = await vip(u);
    expect(ms(v.expiresAt) - ms(v.since)).toBe(300 * DAY);
  });
});
