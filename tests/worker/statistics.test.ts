import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { as, bearer, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

/** A CloudEvent shaped like the ones the outboxes publish. */
function ev(
  tenantId: string,
  type: string,
  time: string,
  data: Record<string, unknown>,
  id = `ev-${crypto.randomUUID()}`,
) {
  return {
    specversion: "1.0",
    id,
    source: `/tenants/${tenantId}`,
    type,
    time,
    tenantid: tenantId,
    datacontenttype: "application/json",
    data,
  };
}
const at = (day: string, clock = "12:00:00") => `${day}T${clock}.000Z`;
const session = (t: string, day: string, userId: string, clock?: string) =>
  ev(t, "session.created", at(day, clock), { userId, sessionId: `s-${crypto.randomUUID()}`, platform: "web" });

/** Delivers events to the Worker's queue handler as the statistics queue would. */
async function deliver(events: unknown[], attempts = 1) {
  const batch = createMessageBatch<unknown>(
    "canopy-statistics",
    events.map((body) => ({ id: `m-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages).toEqual([]);
  expect(result.explicitAcks).toHaveLength(events.length);
  return result;
}

interface Report {
  from: string;
  to: string;
  granularity: string;
  timeZone: string;
  series: Record<string, number | string>[];
  totals: Record<string, number>;
  gauges: Record<string, number | string>;
}

async function stats(slug: string, token: string, query: string): Promise<Report> {
  const res = await call(`/v1/admin/stats?${query}`, { tenant: slug, headers: bearer(token) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Report>();
}

describe("statistics consumer", () => {
  it("counts an event once: twice in a batch, again in a later batch, a whole batch redelivered", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const t = tenant.id;
    const day = "2024-03-05";
    const reg1 = ev(t, "user.registered", at(day), { userId: "u1", roles: ["member"] });
    const reg2 = ev(t, "user.registered", at(day), { userId: "u2", roles: ["member"] });
    const login = session(t, day, "u1");
    const msg = ev(t, "message.created", at(day), {
      conversationId: "c1",
      seq: 1,
      messageId: "m1",
      senderId: "u1",
      kind: "text",
      body: { text: "hi" },
      sentAt: at(day),
      recipients: ["u2"],
    });
    await deliver([reg1, reg1, reg2, login, msg]);
    await deliver([reg1, reg2, login, msg], 2);
    await deliver([login], 3);
    const r = await stats(tenant.slug, owner.tokens.accessToken, `from=${day}&to=${day}`);
    expect(r.totals).toMatchObject({ registrations: 2, logins: 1, messages: 1, activeUsers: 1 });
    expect(r.gauges).toMatchObject({ asOf: day, totalUsers: 2, dau: 1 });
  });

  it("counts on the UTC day of the event's time; DAU/WAU/MAU are distinct users", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const t = tenant.id;
    await deliver([
      session(t, "2024-04-10", "u3"),
      session(t, "2024-05-01", "u1", "23:59:59"),
      session(t, "2024-05-01", "u1", "08:00:00"),
      ev(t, "session.refreshed", at("2024-05-02", "00:00:01"), { userId: "u1", sessionId: "s" }),
      ev(t, "connection.opened", at("2024-05-02"), { userId: "u1", connId: "k1", sessionId: "s" }),
      ev(t, "message.created", at("2024-05-02"), { senderId: "u2", kind: "custom", conversationId: "c", seq: 1 }),
    ]);
    const r = await stats(tenant.slug, owner.tokens.accessToken, "from=2024-04-30&to=2024-05-02");
    expect(r).toMatchObject({ from: "2024-04-30", to: "2024-05-02", granularity: "day", timeZone: "UTC" });
    expect(r.series.map((p) => [p.period, p.activeUsers, p.logins, p.connections, p.messages])).toEqual([
      ["2024-04-30", 0, 0, 0, 0],
      ["2024-05-01", 1, 2, 0, 0],
      ["2024-05-02", 2, 0, 1, 1],
    ]);
    expect(r.totals).toMatchObject({ activeUsers: 2, logins: 2 });
    expect(r.gauges).toMatchObject({ dau: 2, wau: 2, mau: 3, activeConnections: 1 });
    // A late event lands on its own day, not on the day it is processed.
    await deliver([session(t, "2024-04-30", "u4")]);
    const again = await stats(tenant.slug, owner.tokens.accessToken, "from=2024-04-30&to=2024-05-02");
    expect(again.series.map((p) => p.activeUsers)).toEqual([1, 1, 2]);
    expect(again.gauges).toMatchObject({ dau: 2, wau: 3, mau: 4 });
  });

  it("keeps files stored net of deletions, connections opened minus closed, levels as of `to`", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const t = tenant.id;
    const [d1, d2] = ["2024-06-10", "2024-06-11"];
    const file = (type: string, day: string, fileId: string, size: number) =>
      ev(t, type, at(day), { fileId, ownerId: "u1", purpose: "avatar", size, contentType: "image/png", name: "a.png" });
    await deliver([
      ev(t, "user.registered", at(d1), { userId: "u1", roles: [] }),
      file("file.uploaded", d1, "f1", 100),
      file("file.uploaded", d1, "f2", 200),
      file("file.uploaded", d1, "f3", 300),
      ev(t, "connection.opened", at(d1), { userId: "u1", connId: "k1", sessionId: "s" }),
      ev(t, "connection.opened", at(d1), { userId: "u1", connId: "k2", sessionId: "s" }),
      file("file.deleted", d2, "f2", 200),
      ev(t, "connection.closed", at(d2), { userId: "u1", connId: "k1", sessionId: "s", durationMs: 5 }),
      ev(t, "user.deleted", at(d2), { userId: "u1" }),
      ev(t, "message.created", at(d2), { senderId: "u1", kind: "system", conversationId: "c", seq: 2 }),
    ]);
    const first = await stats(tenant.slug, owner.tokens.accessToken, `from=${d1}&to=${d1}`);
    expect(first.gauges).toMatchObject({ filesStored: 3, bytesStored: 600, activeConnections: 2, totalUsers: 1 });
    const both = await stats(tenant.slug, owner.tokens.accessToken, `from=${d1}&to=${d2}`);
    expect(both.gauges).toMatchObject({
      asOf: d2,
      filesStored: 2,
      bytesStored: 400,
      activeConnections: 1,
      totalUsers: 0,
    });
    expect(both.series.map((p) => [p.filesStored, p.bytesStored, p.activeConnections])).toEqual([
      [3, 600, 2],
      [2, 400, 1],
    ]);
    expect(both.totals).toMatchObject({
      filesUploaded: 3,
      filesDeleted: 1,
      bytesUploaded: 600,
      bytesDeleted: 200,
      connections: 2,
      deletedUsers: 1,
      registrations: 1,
      messages: 0,
    });
    // The range after the changes still sees the levels they left.
    const later = await stats(tenant.slug, owner.tokens.accessToken, "from=2024-07-01&to=2024-07-01");
    expect(later.gauges).toMatchObject({ filesStored: 2, bytesStored: 400, activeConnections: 1, dau: 0 });
  });

  it("ignores types it does not count and dead-letters unusable data of counted types", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const t = tenant.id;
    const day = "2024-02-02";
    const { time: _time, ...untimed } = session(t, day, "u1");
    const bad = [
      ev(t, "user.registered", at(day), {}),
      ev(t, "file.uploaded", at(day), { fileId: "f", size: -1 }),
      ev(t, "message.created", at(day), { kind: "text" }),
      untimed,
    ];
    await deliver([ev(t, "profile.updated", at(day), { userId: "u1", fields: ["bio"] }), ...bad]);
    const r = await stats(tenant.slug, owner.tokens.accessToken, `from=${day}&to=${day}`);
    expect(r.totals).toMatchObject({ registrations: 0, filesUploaded: 0, messages: 0, logins: 0, activeUsers: 0 });
    await vi.waitFor(
      async () => {
        const res = await call(`/admin/v1/dead-letters?tenantId=${t}&queue=canopy-statistics&limit=100`, {
          admin: true,
        });
        const { items } = await res.json<{ items: { eventId: string | null; reason: string }[] }>();
        expect(items.map((i) => i.eventId).sort()).toEqual(bad.map((b) => b.id).sort());
      },
      { timeout: 20_000, interval: 500 },
    );
  });
});

describe("GET /v1/admin/stats", () => {
  it("answers ISO weeks (Monday first) and months, clipped to the range", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const t = tenant.id;
    await deliver([
      session(t, "2024-03-03", "u1"),
      session(t, "2024-03-04", "u1"),
      session(t, "2024-03-04", "u2"),
      session(t, "2024-03-31", "u3"),
      session(t, "2024-04-01", "u1"),
    ]);
    const token = owner.tokens.accessToken;
    const weeks = await stats(tenant.slug, token, "from=2024-03-01&to=2024-03-10&granularity=week");
    expect(weeks.series.map((p) => [p.period, p.start, p.end, p.activeUsers, p.logins])).toEqual([
      ["2024-W09", "2024-03-01", "2024-03-03", 1, 1],
      ["2024-W10", "2024-03-04", "2024-03-10", 2, 2],
    ]);
    const months = await stats(tenant.slug, token, "from=2024-03-01&to=2024-04-15&granularity=month");
    expect(months.series.map((p) => [p.period, p.start, p.end, p.activeUsers, p.logins])).toEqual([
      ["2024-03", "2024-03-01", "2024-03-31", 3, 4],
      ["2024-04", "2024-04-01", "2024-04-15", 1, 1],
    ]);
    expect(months.totals.activeUsers).toBe(3);
    // The ISO week-numbering year: 2021-01-01 (a Friday) is in 2020's week 53.
    const boundary = await stats(tenant.slug, token, "from=2020-12-30&to=2021-01-04&granularity=week");
    expect(boundary.series.map((p) => [p.period, p.start, p.end])).toEqual([
      ["2020-W53", "2020-12-30", "2021-01-03"],
      ["2021-W01", "2021-01-04", "2021-01-04"],
    ]);
  });

  it("keeps tenants apart: A's events never show in B, and only A's readers with stats:read get A's figures", async () => {
    const a = await tenantWithOwner();
    const b = await tenantWithOwner();
    const day = "2024-01-15";
    const shared = ev(a.tenant.id, "user.registered", at(day), { userId: "u1", roles: [] });
    await deliver([shared, session(a.tenant.id, day, "u1")]);
    const q = `from=${day}&to=${day}`;
    expect((await stats(a.tenant.slug, a.owner.tokens.accessToken, q)).totals).toMatchObject({
      registrations: 1,
      logins: 1,
    });
    expect((await stats(b.tenant.slug, b.owner.tokens.accessToken, q)).totals).toMatchObject({
      registrations: 0,
      logins: 0,
      activeUsers: 0,
    });
    // The same event id in another tenant is another tenant's event: counted there, once.
    await deliver([
      { ...shared, tenantid: b.tenant.id },
      { ...shared, tenantid: b.tenant.id },
    ]);
    expect((await stats(b.tenant.slug, b.owner.tokens.accessToken, q)).totals.registrations).toBe(1);
    expect((await stats(a.tenant.slug, a.owner.tokens.accessToken, q)).totals.registrations).toBe(1);

    await expectProblem(
      await call(`/v1/admin/stats?${q}`, { tenant: a.tenant.slug, headers: bearer(b.owner.tokens.accessToken) }),
      401,
      "invalid_token",
    );
    const member = await registerUser(a.tenant.slug);
    await expectProblem(await call(`/v1/admin/stats?${q}`, as(a.tenant.slug, member)), 403, "forbidden");
    await expectProblem(await call(`/v1/admin/stats?${q}`, { tenant: a.tenant.slug }), 401, "unauthenticated");
    await expectProblem(
      await call(`/v1/admin/stats?${q}`, { tenant: a.tenant.slug, admin: true }),
      401,
      "invalid_token",
    );
  });

  it("validates the range and granularity", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const get = (q: string) =>
      call(`/v1/admin/stats?${q}`, { tenant: tenant.slug, headers: bearer(owner.tokens.accessToken) });
    for (const q of [
      "from=2024-02-30",
      "to=2024-13-01",
      "from=20240101",
      "from=2024-1-01",
      "from=",
      "granularity=year",
      "to=2024-01-01T00:00:00Z",
    ]) {
      await expectProblem(await get(q), 400, "validation_failed");
    }
    await expectProblem(await get("from=2024-03-02&to=2024-03-01"), 400, "invalid_range");
    await expectProblem(await get("from=2023-01-01&to=2024-01-02"), 400, "invalid_range");
    await expectProblem(await get("from=2020-01-01&to=2024-01-01&granularity=week"), 400, "invalid_range");
    expect((await get("from=2023-01-01&to=2023-12-31&granularity=day")).status).toBe(200);
    expect((await get("from=2020-01-01&to=2024-01-01&granularity=month")).status).toBe(200);
    const defaults = await stats(tenant.slug, owner.tokens.accessToken, "");
    const today = new Date().toISOString().slice(0, 10);
    expect(defaults).toMatchObject({ to: today, granularity: "day" });
    expect(defaults.series).toHaveLength(30);
    expect(defaults.series.at(-1)?.period).toBe(today);
  });
});
