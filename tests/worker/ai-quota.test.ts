import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { as, registerUser } from "./auth-helpers";
import { aiRows, aiTenant, callsOf, grant, moderate, quotaOf } from "./ai-helpers";
import { call, expectProblem } from "./helpers";

const statuses = (rs: Response[]) => {
  const n = (s: number) => rs.filter((r) => r.status === s).length;
  return { ok: n(200), refused: n(429), other: rs.length - n(200) - n(429) };
};

/**
 * The quota gate under concurrency: however many calls race, the units granted never exceed the
 * quota (period allowance, packs, pool), and every refusal is a 429 before any provider call.
 */
describe("AI quota: metered calls", () => {
  it("100 parallel calls against a quota for 10: exactly 10 run", async () => {
    const { slug } = await aiTenant({ quota: { units: 10 } });
    const u = await registerUser(slug);
    const rs = await Promise.all(Array.from({ length: 100 }, () => moderate(slug, u)));
    expect(statuses(rs)).toEqual({ ok: 10, refused: 90, other: 0 });
    const q = await quotaOf(slug, u);
    expect(q).toMatchObject({
      limit: 10,
      used: 10,
      reserved: 0,
      remaining: 0,
      status: "exhausted",
      packs: 0,
      bonus: 0,
    });
    const calls = await callsOf(slug, u.userId);
    expect(calls.length).toBe(10);
    expect(calls.every((c) => c.status === "ok" && c.units === 1)).toBe(true);
  });

  it("a refusal is a 429 quota_exhausted with the reset time, Retry-After and the scope", async () => {
    const { slug } = await aiTenant({ quota: { units: 1, period: "day", timeZone: "Asia/Shanghai" } });
    const u = await registerUser(slug);
    expect((await moderate(slug, u)).status).toBe(200);
    const res = await moderate(slug, u);
    const p = await expectProblem(res, 429, "quota_exhausted");
    const q = await quotaOf(slug, u);
    expect(p).toMatchObject({ scope: "user", resetsAt: q.period.end });
    // Local midnight in Shanghai is 16:00 UTC.
    expect(q.period.end).toMatch(/T16:00:00\.000Z$/);
    const retry = Number(res.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(86_400);
  });

  it("packs cover what the period cannot: quota 10 and a grant of 5 run exactly 15 of 60", async () => {
    const { slug, owner } = await aiTenant({ quota: { units: 10 } });
    const u = await registerUser(slug);
    await grant(slug, owner, u.userId, 5);
    expect(await quotaOf(slug, u)).toMatchObject({ limit: 10, packs: 5, remaining: 15, status: "ok" });
    const rs = await Promise.all(Array.from({ length: 60 }, () => moderate(slug, u)));
    expect(statuses(rs)).toEqual({ ok: 15, refused: 45, other: 0 });
    const [g] = await aiRows<{ used: number; quantity: number }>(
      slug,
      sql`SELECT used, quantity FROM ai_grants WHERE user_id = ${u.userId}`,
    );
    expect(g).toEqual({ used: 5, quantity: 5 });
    const holds = await aiRows(slug, sql`SELECT * FROM ai_pack_holds`);
    expect(holds).toEqual([]);
    const calls = await callsOf(slug, u.userId);
    expect(calls.reduce((n, c) => n + c.pack_units, 0)).toBe(5);
    expect(await quotaOf(slug, u)).toMatchObject({ used: 10, packs: 0, remaining: 0, status: "exhausted" });
  });

  it("with leases on, 400 parallel calls against 200 units: exactly 200 run", async () => {
    const { slug } = await aiTenant({ quota: { units: 200 }, lease: { enabled: true } });
    const u = await registerUser(slug);
    const rs = await Promise.all(Array.from({ length: 400 }, () => moderate(slug, u)));
    expect(statuses(rs)).toEqual({ ok: 200, refused: 200, other: 0 });
    // Leases settle LEASE_MARGIN_MS before they expire (at most 2 s): then nothing is held.
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await quotaOf(slug, u)).toMatchObject({ used: 200, reserved: 0, remaining: 0 });
    expect((await callsOf(slug, u.userId)).length).toBe(200);
  });

  it("the tenant's pool binds every user: a pool of 10 shared by 3 users' 50 calls runs 10", async () => {
    const { slug } = await aiTenant({ quota: { units: 100 }, pool: { units: 10, period: "month" } });
    const users = await Promise.all([1, 2, 3].map(() => registerUser(slug)));
    const rs = await Promise.all(users.flatMap((u) => Array.from({ length: 50 }, () => moderate(slug, u))));
    expect(statuses(rs)).toEqual({ ok: 10, refused: 140, other: 0 });
    const refusal = rs.find((r) => r.status === 429)!;
    expect(await refusal.json()).toMatchObject({ code: "quota_exhausted", scope: "tenant" });
    // A user's hold whose pool hold failed went back: the users' quotas count only what ran
    // (once the leases, which settle within 2 s, are settled).
    await new Promise((r) => setTimeout(r, 2_100));
    const used = await Promise.all(users.map(async (u) => (await quotaOf(slug, u)).used));
    expect(used.reduce((a, b) => a + b, 0)).toBe(10);
    expect((await Promise.all(users.map((u) => quotaOf(slug, u)))).every((q) => q.reserved === 0)).toBe(true);
  });

  it("forged and malformed tokens are refused before any metering", async () => {
    const { slug } = await aiTenant({ quota: { units: 5 } });
    const u = await registerUser(slug);
    const forged = u.tokens.accessToken.replace(/\.[^.]+$/, `.${"A".repeat(43)}`);
    for (const token of [forged, `${u.tokens.accessToken}x`, "not-a-jwt"]) {
      const headers = { authorization: `Bearer ${token}` };
      expect((await call("/v1/ai/quota", { tenant: slug, headers })).status).toBe(401);
      expect(
        (await call("/v1/ai/moderate", { method: "POST", tenant: slug, headers, json: { text: "hi" } })).status,
      ).toBe(401);
    }
    expect(await quotaOf(slug, u)).toMatchObject({ used: 0, remaining: 5 });
  });

  it("another tenant's user and API keys cannot spend or read a user's quota", async () => {
    const a = await aiTenant({ quota: { units: 5 } });
    const b = await aiTenant({ quota: { units: 5 } });
    const ua = await registerUser(a.slug);
    // ua's token at tenant b: refused before any metering.
    const res = await call("/v1/ai/quota", as(b.slug, ua));
    expect(res.status).toBe(401);
    expect((await moderate(b.slug, ua)).status).toBe(401);
    expect(await quotaOf(a.slug, ua)).toMatchObject({ used: 0, remaining: 5 });
  });
});
