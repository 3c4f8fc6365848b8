import { describe, expect, it, vi } from "vitest";
import { aiTenant, moderate, userQuota } from "./ai-helpers";
import { registerUser } from "./auth-helpers";
import { createEndpoint, hook, received } from "./webhook-helpers";

interface Warning {
  type: string;
  data: {
    data: {
      scope: string;
      level: string;
      userId?: string;
      period: { start: string };
      remaining: number;
      limit: number;
    };
  };
}

const warningsAt = async (path: string): Promise<Warning["data"]["data"][]> =>
  (await received(path))
    .map((r) => JSON.parse(r.body) as Warning)
    .filter((w) => w.type === "ai.quota.warning")
    .map((w) => w.data.data);

/**
 * Warnings at 20 % and 10 % remaining: exactly once per level per period however many calls
 * cross together, for the user (to the user) and the pool (to the tenant); again in the next
 * period.
 */
describe("AI quota warnings", () => {
  it("40 parallel calls crossing both thresholds send one warning and one critical; the next period warns again", async () => {
    const { slug, tenantId, owner } = await aiTenant({ quota: { units: 40 }, lease: { enabled: false } });
    const h = hook();
    await createEndpoint(slug, owner, { url: h.url, eventTypes: ["ai.quota.warning"] });
    const u = await registerUser(slug);
    const rs = await Promise.all(Array.from({ length: 40 }, () => moderate(slug, u)));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    await vi.waitFor(async () => expect((await warningsAt(h.path)).length).toBe(2), { timeout: 15_000, interval: 250 });
    // Settle a while longer: nothing more arrives.
    await new Promise((r) => setTimeout(r, 1_000));
    const got = await warningsAt(h.path);
    // Sorted: two webhooks arrive in either order.
    expect(got.map((w) => [w.scope, w.level, w.userId, w.limit]).sort((a, b) => (a[1]! < b[1]! ? 1 : -1))).toEqual([
      ["user", "warning", u.userId, 40],
      ["user", "critical", u.userId, 40],
    ]);
    // The next period (an injected instant past this one's end): a fresh allowance warns again.
    const stub = userQuota(tenantId, u.userId);
    const owner_ = { tenantId, scope: "user" as const, userId: u.userId };
    const cfg = { units: 40, period: "day" as const, timeZone: "UTC" };
    const next = Date.UTC(2030, 0, 1, 12);
    const facts = { bonusPercent: 0, validUntil: Number.MAX_SAFE_INTEGER, packs: 0 };
    for (let i = 0; i < 3; i++) {
      await stub.reserve({
        owner: owner_,
        cfg,
        facts,
        id: `n${i}`,
        units: 12,
        feature: "chat",
        ttlMs: 60_000,
        partial: false,
        now: next,
      });
      await stub.settle({ id: `n${i}`, used: 12, now: next });
    }
    await vi.waitFor(async () => expect((await warningsAt(h.path)).length).toBe(4), { timeout: 15_000, interval: 250 });
    // 36 of 40 used at once: 4 remaining is 10 %, crossing both levels in one step sends both
    // (two webhooks, delivered independently: their arrival order is not part of the contract).
    const [third, fourth] = (await warningsAt(h.path)).slice(2).sort((a, b) => (a.level < b.level ? 1 : -1));
    const start = "2030-01-01T00:00:00.000Z";
    expect(third).toMatchObject({ level: "warning", period: { start }, remaining: 4 });
    expect(fourth).toMatchObject({ level: "critical", period: { start }, remaining: 4 });
  });

  it("the pool warns the tenant", async () => {
    const { slug, owner } = await aiTenant({
      quota: { units: 100 },
      pool: { units: 10, period: "month" },
      lease: { enabled: false },
    });
    const h = hook();
    await createEndpoint(slug, owner, { url: h.url, eventTypes: ["ai.quota.warning"] });
    const u = await registerUser(slug);
    for (let i = 0; i < 9; i++) expect((await moderate(slug, u)).status).toBe(200);
    await vi.waitFor(async () => expect((await warningsAt(h.path)).filter((w) => w.scope === "pool").length).toBe(2), {
      timeout: 15_000,
      interval: 250,
    });
    const pool = (await warningsAt(h.path)).filter((w) => w.scope === "pool");
    expect(pool.map((w) => [w.level, w.remaining, w.userId])).toEqual([
      ["warning", 2, undefined],
      ["critical", 1, undefined],
    ]);
  });
});
