import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { aiTenant, moderate } from "./ai-helpers";
import { as, registerUser, type Tokens } from "./auth-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";

const Q = 15 * 60_000;

async function seed(
  slug: string,
  rows: { userId: string; bucket: number; feature: string; units: number; calls: number }[],
) {
  const { db } = await tenantDbOf(slug);
  for (const r of rows) {
    await db.run(sql`INSERT INTO ai_usage_q (user_id, bucket, feature, units, calls)
      VALUES (${r.userId}, ${r.bucket}, ${r.feature}, ${r.units}, ${r.calls})`);
  }
}

interface Usage {
  items: { start: string; units: number; calls: number; byFeature: Record<string, { units: number; calls: number }> }[];
  total: { units: number; calls: number };
  trend: { previousUnits: number; change: number; changePercent: number | null };
}
const usage = async (slug: string, u: { tokens: Tokens }, q: string): Promise<Usage> => {
  const res = await call(`/v1/ai/usage?${q}`, as(slug, u));
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Usage>();
};

/** Usage history: buckets in the tenant's zone, trend, the admin's totals and the CSV export. */
describe("AI usage", () => {
  it("a user's calls show in the current hour, by feature", async () => {
    const { slug } = await aiTenant({ lease: { enabled: false } });
    const u = await registerUser(slug);
    for (let i = 0; i < 3; i++) expect((await moderate(slug, u)).status).toBe(200);
    const h = await usage(slug, u, "granularity=hour");
    // The last 24 hours, widened to whole hours: 25 buckets (24 when now is on the hour).
    expect([24, 25]).toContain(h.items.length);
    const last = h.items[h.items.length - 1]!;
    expect(last).toMatchObject({ units: 3, calls: 3, byFeature: { moderation: { units: 3, calls: 3 } } });
    expect(h.total).toEqual({ units: 3, calls: 3 });
    expect(h.trend).toEqual({ previousUnits: 0, change: 3, changePercent: null });
  });

  it("days follow the tenant's zone (Kathmandu, +5:45), and the trend compares the window before", async () => {
    const { slug } = await aiTenant({ quota: { timeZone: "Asia/Kathmandu" } });
    const u = await registerUser(slug);
    // Local midnight of 2 March 2026 in Kathmandu is 18:15 UTC on 1 March.
    const midnight = Date.UTC(2026, 2, 1, 18, 15);
    await seed(slug, [
      { userId: u.userId, bucket: midnight - Q, feature: "chat", units: 40, calls: 1 },
      { userId: u.userId, bucket: midnight, feature: "chat", units: 7, calls: 1 },
      { userId: u.userId, bucket: midnight + 23 * 3_600_000, feature: "moderation", units: 1, calls: 1 },
      // The two days before the window: the previous period.
      { userId: u.userId, bucket: midnight - 36 * 3_600_000, feature: "chat", units: 20, calls: 2 },
    ]);
    const from = new Date(midnight - 24 * 3_600_000).toISOString();
    const to = new Date(midnight + 24 * 3_600_000).toISOString();
    const d = await usage(slug, u, `granularity=day&from=${from}&to=${to}`);
    expect(d.items.map((x) => [x.start, x.units])).toEqual([
      ["2026-02-28T18:15:00.000Z", 40],
      ["2026-03-01T18:15:00.000Z", 8],
    ]);
    expect(d.items[1]!.byFeature).toEqual({ chat: { units: 7, calls: 1 }, moderation: { units: 1, calls: 1 } });
    expect(d.trend).toEqual({ previousUnits: 20, change: 28, changePercent: 140 });
    // Another user's usage is not the caller's.
    const other = await registerUser(slug);
    expect((await usage(slug, other, `granularity=day&from=${from}&to=${to}`)).total).toEqual({ units: 0, calls: 0 });
  });

  it("bad windows are 400s", async () => {
    const { slug } = await aiTenant();
    const u = await registerUser(slug);
    const get = (q: string) => call(`/v1/ai/usage?${q}`, as(slug, u));
    await expectProblem(await get("from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z"), 400, "invalid_range");
    await expectProblem(
      await get("granularity=hour&from=2026-01-01T00:00:00Z&to=2026-02-15T00:00:00Z"),
      400,
      "invalid_range",
    );
    await expectProblem(
      await get("granularity=day&from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"),
      400,
      "invalid_range",
    );
    await expectProblem(await get("from=yesterday"), 400, "validation_failed");
    await expectProblem(await get("granularity=week"), 400, "validation_failed");
  });

  it("admins see totals per user and feature, page them, and export CSV with formula cells defended", async () => {
    const { slug, owner } = await aiTenant();
    const [a, b, member] = [await registerUser(slug), await registerUser(slug), await registerUser(slug)];
    const t = Math.floor(Date.now() / Q) * Q - 2 * Q;
    await seed(slug, [
      { userId: a.userId, bucket: t, feature: "chat", units: 100, calls: 2 },
      { userId: a.userId, bucket: t + Q, feature: "chat", units: 50, calls: 1 },
      { userId: a.userId, bucket: t, feature: "moderation", units: 3, calls: 3 },
      { userId: b.userId, bucket: t, feature: "=HYPERLINK(1)", units: 1, calls: 1 },
      { userId: "", bucket: t, feature: "moderation.auto", units: 9, calls: 9 },
    ]);
    const res = await call("/v1/admin/ai/usage", as(slug, owner));
    expect(res.status, await res.clone().text()).toBe(200);
    const { items } = await res.json<{ items: { userId: string | null; feature: string; units: number }[] }>();
    expect(items).toEqual(
      expect.arrayContaining([
        { userId: a.userId, feature: "chat", units: 150, calls: 3 },
        { userId: a.userId, feature: "moderation", units: 3, calls: 3 },
        { userId: null, feature: "moderation.auto", units: 9, calls: 9 },
      ]),
    );
    // Paging: one at a time, every total once.
    const seen: string[] = [];
    let cursor = "";
    for (let i = 0; i < 10; i++) {
      const page = await (await call(`/v1/admin/ai/usage?limit=1${cursor}`, as(slug, owner))).json<{
        items: { userId: string | null; feature: string }[];
        nextCursor: string | null;
      }>();
      seen.push(...page.items.map((x) => `${x.userId}/${x.feature}`));
      if (!page.nextCursor) break;
      cursor = `&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    expect(seen.length).toBe(4);
    expect(new Set(seen).size).toBe(4);
    const only = await (await call(`/v1/admin/ai/usage?userId=${a.userId}&feature=chat`, as(slug, owner))).json<{
      items: unknown[];
    }>();
    expect(only.items).toEqual([{ userId: a.userId, feature: "chat", units: 150, calls: 3 }]);

    const csv = await call("/v1/admin/ai/usage/export", as(slug, owner));
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const lines = (await csv.text()).split("\r\n");
    expect(lines[0]).toBe("bucket,userId,feature,units,calls");
    expect(lines).toContain(`${new Date(t).toISOString()},${b.userId},'=HYPERLINK(1),1,1`);
    expect(lines).toContain(`${new Date(t).toISOString()},,moderation.auto,9,9`);
    expect(lines.filter((l) => l).length).toBe(6);

    await expectProblem(await call("/v1/admin/ai/usage", as(slug, member)), 403, "forbidden");
    await expectProblem(await call("/v1/admin/ai/usage/export", as(slug, member)), 403, "forbidden");
  });
});
