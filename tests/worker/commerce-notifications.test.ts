import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { publishTenantOutbox } from "../../src/workers/events/outbox-publisher";
import { vipSweep } from "../../src/workers/commerce/vip-sweep";
import { as, registerUser } from "./auth-helpers";
import {
  ageVip,
  commerceTenant,
  credit,
  moneyHeaders,
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

interface Item {
  type: string;
  title: string;
  body: string;
  actorId: string | null;
  data: Record<string, unknown>;
}

const DAY = 86_400_000;
const eventually = <T>(fn: () => Promise<T>) => vi.waitFor(fn, { timeout: 20_000, interval: 250 });

/**
 * Commerce events reach their user's inbox: money that arrived or did not, a refund, a membership
 * that changed or is about to end. Amounts are shown in the currency's decimals; data carries the
 * ids clients deep-link with; a paid order tells nobody (the buyer just did it).
 */
describe("commerce notifications", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let silver: Product;

  beforeAll(async () => {
    ({ slug, owner } = await commerceTenant());
    silver = await product(slug, owner, {
      kind: "vip",
      price: { amount: 3000, currency: "CNY" },
      grants: { level: 1, days: 30 },
    });
  });

  const inbox = async (u: User) =>
    (await (await call("/v1/notifications?limit=100", as(slug, u))).json<{ items: Item[] }>()).items;
  async function topUp(u: User, amount: number, currency = "CNY"): Promise<string> {
    const res = await call("/v1/wallet/top-ups", {
      method: "POST",
      tenant: slug,
      headers: moneyHeaders(u),
      json: { amount, currency },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json<{ id: string }>()).id;
  }
  async function sandbox(u: User, id: string, action: "complete" | "fail") {
    const res = await call(`/v1/payments/sandbox/${id}/${action}`, { method: "POST", ...as(slug, u) });
    expect(res.status, await res.clone().text()).toBe(200);
  }
  async function buy(u: User, p: Product): Promise<Order> {
    const res = await order(slug, u, [{ productId: p.id }]);
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json<Order>();
  }
  const mute = async (u: User, muted: string[]) =>
    expect(
      (await call("/v1/notifications/preferences", { method: "PUT", ...as(slug, u), json: { muted } })).status,
    ).toBe(200);

  it("a completed sandbox top-up tells its user 'Top-up of 19.99 CNY received'; a failed one that it failed", async () => {
    const u = await registerUser(slug);
    const paid = await topUp(u, 1999);
    await sandbox(u, paid, "complete");
    await eventually(async () => {
      const got = await inbox(u);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({
        type: "payment_succeeded",
        title: "Top-up of 19.99 CNY received",
        body: "19.99 CNY was added to your wallet.",
        actorId: null,
        data: { topUpId: paid, amount: 1999, currency: "CNY" },
      });
    });
    const declined = await topUp(u, 500, "USD");
    await sandbox(u, declined, "fail");
    await eventually(async () => {
      const got = await inbox(u);
      expect(got.map((n) => n.type)).toEqual(["payment_failed", "payment_succeeded"]);
      expect(got[0]).toMatchObject({
        title: "Top-up of 5.00 USD failed",
        data: { topUpId: declined, amount: 500, currency: "USD", reason: "card_declined" },
      });
      expect(got[0]!.body).toBe(
        "The payment did not go through (card_declined), so nothing was added to your wallet. You can try again.",
      );
    });
  });

  it("buying VIP tells of the membership (not of the order); an admin refund tells of the money and the membership", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 10_000n);
    const o = await buy(u, silver);
    await eventually(async () => {
      const got = await inbox(u);
      expect(got.map((n) => n.type)).toEqual(["vip_changed"]);
      expect(got[0]).toMatchObject({
        title: "Your membership is now Silver",
        data: { level: 1, previousLevel: 0, reason: "purchase" },
      });
      expect(got[0]!.body).toMatch(/^Valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/);
    });
    expect((await refund(slug, owner, o.id, "duplicate charge")).status).toBe(200);
    await eventually(async () => {
      const got = await inbox(u);
      const refunded = got.find((n) => n.type === "order_refunded");
      expect(refunded).toMatchObject({
        title: "Your order was refunded",
        body: "30.00 CNY is back in your wallet. Reason: duplicate charge",
        data: { orderId: o.id, total: 3000, currency: "CNY" },
      });
      const changes = got.filter((n) => n.type === "vip_changed").map((n) => n.title);
      expect(changes).toEqual(["Your Silver membership ended after a refund", "Your membership is now Silver"]);
      expect(got).toHaveLength(3);
    });
  });

  it("three days before a membership ends the sweep's vip.expiring tells its member once", async () => {
    const u = await registerUser(slug);
    await credit(slug, u.userId, 10_000n);
    await buy(u, silver);
    await ageVip(slug, u.userId, 28 * DAY);
    const scope = await sweepScope(slug);
    await vipSweep(scope, Date.now());
    await vipSweep(scope, Date.now());
    // The cron publishes what sweeps wrote to the outbox; here the test does.
    await publishTenantOutbox(scope.env, scope.tenant, scope.db);
    const [notice] = await rows<{ data: string }>(
      slug,
      sql`SELECT data FROM outbox WHERE type = 'vip.expiring' AND subject = ${u.userId}`,
    );
    const expiresAt = (JSON.parse(notice!.data) as { expiresAt: string }).expiresAt;
    const shown = `${expiresAt.slice(0, 16).replace("T", " ")} UTC`;
    await eventually(async () => {
      const got = (await inbox(u)).filter((n) => n.type === "vip_expiring");
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({
        title: "Your Silver membership expires soon",
        body: `It ends on ${shown}. Renew it to keep its benefits.`,
        data: { level: 1, expiresAt },
      });
    });
  });

  it("a muted type notifies nothing; the others still do", async () => {
    const u = await registerUser(slug);
    await mute(u, ["payment_succeeded", "vip_changed"]);
    await sandbox(u, await topUp(u, 1000), "complete");
    await credit(slug, u.userId, 10_000n);
    await buy(u, silver);
    await sandbox(u, await topUp(u, 700), "fail");
    await eventually(async () => expect((await inbox(u)).map((n) => n.type)).toEqual(["payment_failed"]));
    await new Promise((r) => setTimeout(r, 1000));
    expect((await inbox(u)).map((n) => n.type)).toEqual(["payment_failed"]);
  });
});
