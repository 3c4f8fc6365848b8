import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { bearer, login, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

const at = (day: string) => `${day}T12:00:00.000Z`;
function ev(tenantId: string, type: string, day: string, data: Record<string, unknown>) {
  return {
    specversion: "1.0",
    id: `ev-${crypto.randomUUID()}`,
    source: `/tenants/${tenantId}`,
    type,
    time: at(day),
    tenantid: tenantId,
    data,
  };
}

async function deliver(events: unknown[]) {
  const batch = createMessageBatch<unknown>(
    "canopy-statistics",
    events.map((body) => ({ id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(events.length);
}

interface UsageItem {
  tenantId: string;
  slug: string;
  status: string;
  [k: string]: unknown;
}
interface UsagePage {
  from: string;
  to: string;
  items: UsageItem[];
  nextCursor: string | null;
  unavailable: unknown[];
}

describe("platform usage", () => {
  it("lists every tenant's usage page by page, only for the platform admin", async () => {
    const day = "2023-11-20";
    const a = await createTenant();
    const b = await createTenant();
    await deliver([
      ev(a.id, "user.registered", day, { userId: "u1" }),
      ev(a.id, "session.created", day, { userId: "u1" }),
      ev(a.id, "message.created", day, { senderId: "u1", kind: "text" }),
      ev(a.id, "file.uploaded", day, { fileId: "f1", size: 1234 }),
      ev(b.id, "session.created", day, { userId: "v1" }),
      ev(b.id, "session.created", day, { userId: "v2" }),
      ev(b.id, "connection.opened", day, { userId: "v1", connId: "k" }),
    ]);
    // Newest tenants come first; walk pages until both are seen.
    const found = new Map<string, UsageItem>();
    let cursor: string | null = null;
    for (let page = 0; page < 50 && found.size < 2; page++) {
      const res = await call(`/admin/v1/usage?from=${day}&to=${day}&limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
        admin: true,
      });
      expect(res.status, await res.clone().text()).toBe(200);
      const body: UsagePage = await res.json();
      expect(body).toMatchObject({ from: day, to: day });
      expect(body.items.length).toBeLessThanOrEqual(2);
      for (const item of body.items)
        if (item.tenantId === a.id || item.tenantId === b.id) found.set(item.tenantId, item);
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    expect(found.get(a.id)).toMatchObject({
      slug: a.slug,
      status: "active",
      registrations: 1,
      logins: 1,
      messages: 1,
      activeUsers: 1,
      filesStored: 1,
      bytesStored: 1234,
      dau: 1,
      mau: 1,
      activeConnections: 0,
    });
    expect(found.get(b.id)).toMatchObject({
      slug: b.slug,
      registrations: 0,
      logins: 2,
      activeUsers: 2,
      activeConnections: 1,
      connections: 1,
      filesStored: 0,
    });

    const one = await call(`/admin/v1/tenants/${a.slug}/usage?from=${day}&to=${day}&granularity=week`, { admin: true });
    expect(one.status, await one.clone().text()).toBe(200);
    const report = await one.json<{
      tenantId: string;
      slug: string;
      series: { period: string; messages: number }[];
      totals: Record<string, number>;
    }>();
    expect(report).toMatchObject({ tenantId: a.id, slug: a.slug, totals: { messages: 1, registrations: 1 } });
    expect(report.series).toEqual([expect.objectContaining({ period: "2023-W47", messages: 1 })]);

    await expectProblem(
      await call(`/admin/v1/tenants/no-such-${crypto.randomUUID().slice(0, 6)}/usage`, { admin: true }),
      404,
      "tenant_not_found",
    );
    await expectProblem(await call(`/admin/v1/usage?from=${day}&to=2023-01-01`, { admin: true }), 400, "invalid_range");
    await expectProblem(await call("/admin/v1/usage?to=2023-02-29", { admin: true }), 400, "validation_failed");
    await expectProblem(await call("/admin/v1/usage?cursor=garbage", { admin: true }), 400, "invalid_cursor");
  });

  it("refuses callers without the platform admin token, tenant owners included", async () => {
    const { tenant, owner } = await tenantWithOwner();
    await expectProblem(await call("/admin/v1/usage"), 401, "admin_unauthorized");
    await expectProblem(
      await call("/admin/v1/usage", { headers: bearer(owner.tokens.accessToken) }),
      401,
      "admin_unauthorized",
    );
    await expectProblem(
      await call(`/admin/v1/tenants/${tenant.slug}/usage`, { headers: bearer(owner.tokens.accessToken) }),
      401,
      "admin_unauthorized",
    );
    await expectProblem(
      await call(`/admin/v1/tenants/${tenant.slug}/usage`, { headers: bearer("x".repeat(40)) }),
      401,
      "admin_unauthorized",
    );
  });
});

describe("statistics in the OpenAPI document", () => {
  it("documents the three routes with their schemas", async () => {
    const doc = await (await call("/openapi.json")).json<{
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(doc.paths["/v1/admin/stats"]?.get).toBeTruthy();
    expect(doc.paths["/admin/v1/usage"]?.get).toBeTruthy();
    expect(doc.paths["/admin/v1/tenants/{slug}/usage"]?.get).toBeTruthy();
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["StatsReport", "StatsPeriod", "UsagePage", "TenantUsage"]),
    );
  });
});

describe("statistics end to end", () => {
  it("real sign-ups and logins reach the rollups through the statistics queue", async () => {
    // No owner: every account and session of this tenant comes from the requests below.
    const tenant = await createTenant();
    const alice = await registerUser(tenant.slug);
    await registerUser(tenant.slug);
    expect((await login(tenant.slug, alice.username, alice.password)).status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    await vi.waitFor(
      async () => {
        const res = await call(`/admin/v1/tenants/${tenant.slug}/usage?from=${today}&to=${today}`, { admin: true });
        const r = await res.json<{ totals: Record<string, number>; gauges: Record<string, number> }>();
        expect(r.totals).toMatchObject({ registrations: 2, logins: 3, activeUsers: 2 });
        expect(r.gauges).toMatchObject({ dau: 2, totalUsers: 2 });
      },
      { timeout: 25_000, interval: 500 },
    );
  }, 45_000);
});
