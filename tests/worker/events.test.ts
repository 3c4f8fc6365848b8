import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { announcements } from "../../src/db/tenant/notifications";
import { outboxInsert } from "../../src/db/tenant/outbox";
import { newId } from "../../src/lib/ids";
import { runScheduled } from "../../src/workers/gateway/background";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";

const cloudEvent = (tenantId: string, type: string, data: Record<string, unknown>, id = newId()) => ({
  specversion: "1.0",
  id,
  source: `/tenants/${tenantId}`,
  type,
  tenantid: tenantId,
  time: new Date().toISOString(),
  datacontenttype: "application/json",
  data,
});

async function deliver(queue: string, bodies: unknown[]) {
  const batch = createMessageBatch<unknown>(
    queue,
    bodies.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

const inbox = async (slug: string, u: Awaited<ReturnType<typeof registerUser>>) =>
  (await call("/v1/notifications", as(slug, u))).json<{
    items: { id: string; type: string; title: string; count: number }[];
    unreadCount: number;
  }>();

describe("event pipeline", () => {
  it("a crash between commit and publish still delivers: the cron sweeper republishes what was left", async () => {
    const { tenant } = await tenantWithOwner();
    const alice = await registerUser(tenant.slug);
    const { db } = await tenantDbOf(tenant.slug);
    // The change and its event commit; the process "dies" before publishing (nobody publishes).
    const now = Date.now();
    const a = {
      id: newId(now),
      title: "Maintenance tonight",
      body: "22:00 UTC",
      role: null,
      createdBy: null,
      createdAt: now,
    };
    await db.batch([
      db.insert(announcements).values(a),
      outboxInsert(db, { type: "announcement.created", subject: a.id, data: { announcementId: a.id } }, now),
    ]);

    // Young rows are left to the request that wrote them…
    await runScheduled(env, now + 1000);
    const [young] = await db.all<{ published_at: number | null }>(
      sql`SELECT published_at FROM outbox WHERE subject = ${a.id}`,
    );
    expect(young?.published_at).toBeNull();
    // …older ones are republished by the sweeper and reach the consumer.
    const swept = await runScheduled(env, now + 15_000);
    expect(swept.outboxRepublished).toBeGreaterThanOrEqual(1);
    const [row] = await db.all<{ published_at: number | null }>(
      sql`SELECT published_at FROM outbox WHERE subject = ${a.id}`,
    );
    expect(row?.published_at).not.toBeNull();
    await vi.waitFor(
      async () => {
        const page = await inbox(tenant.slug, alice);
        expect(page.items.map((n) => n.title)).toContain("Maintenance tonight");
      },
      { timeout: 10_000, interval: 250 },
    );
    const backlog = await call(`/admin/v1/tenants/${tenant.slug}/outbox`, { admin: true });
    expect(backlog.status).toBe(200);
  });

  it("a redelivered event has one effect, in the same batch or a later one", async () => {
    const { tenant } = await tenantWithOwner();
    const [alice, bob] = [await registerUser(tenant.slug), await registerUser(tenant.slug)];
    const { id } = await tenantDbOf(tenant.slug);
    const e = cloudEvent(id, "friend.request.received", {
      userId: alice.userId,
      fromUserId: bob.userId,
      requestId: "r1",
      message: "hi",
    });
    const first = await deliver("canopy-notification", [e, e]);
    expect(first.explicitAcks).toHaveLength(2);
    await deliver("canopy-notification", [e]);
    const page = await inbox(tenant.slug, alice);
    const requests = page.items.filter((n) => n.type === "friend_request");
    // A second application would have collapsed into count 2: exactly one effect.
    expect(requests).toHaveLength(1);
    expect(requests[0]!.count).toBe(1);

    // Two consumers racing on one event (a redelivery overlapping the first attempt): still one effect.
    const carol = await registerUser(tenant.slug);
    const raced = cloudEvent(id, "friend.request.received", {
      userId: carol.userId,
      fromUserId: bob.userId,
      requestId: "r9",
      message: null,
    });
    const results = await Promise.all([1, 2, 3].map(() => deliver("canopy-notification", [raced])));
    expect(results.flatMap((r) => r.explicitAcks)).toHaveLength(3);
    const carolRequests = (await inbox(tenant.slug, carol)).items.filter((n) => n.type === "friend_request");
    expect(carolRequests).toHaveLength(1);
    expect(carolRequests[0]!.count).toBe(1);
  });

  it("poison goes to the dead-letter queue; dead letters are listed and replayed; the queue view shows it", async () => {
    const { tenant } = await tenantWithOwner();
    const alice = await registerUser(tenant.slug);
    const { id } = await tenantDbOf(tenant.slug);
    const poison = cloudEvent(id, "friend.request.received", { fromUserId: "x" });
    const invalid = { hello: "not a cloudevent" };
    const r = await deliver("canopy-notification", [poison, invalid]);
    expect(r.explicitAcks).toHaveLength(2);
    expect(r.retryMessages).toHaveLength(0);

    // The dead-letter consumer stores what the queue hands it (here: the real DLQ, asynchronously).
    const listed = async () =>
      (await call(`/admin/v1/dead-letters?tenantId=${id}&status=pending`, { admin: true })).json<{
        items: { id: string; eventId: string | null; reason: string; queue: string | null }[];
      }>();
    await vi.waitFor(async () => expect((await listed()).items.map((d) => d.eventId)).toContain(poison.id), {
      timeout: 15_000,
      interval: 500,
    });
    const dead = (await listed()).items.find((d) => d.eventId === poison.id)!;
    expect(dead.queue).toBe("canopy-notification");
    expect(dead.reason).toMatch(/bad data/);

    // An event whose retries ran out during an outage: the queue moved it without our envelope.
    const good = cloudEvent(id, "friend.request.received", {
      userId: alice.userId,
      fromUserId: alice.userId,
      requestId: "r2",
      message: null,
    });
    const stored = await deliver("canopy-dlq", [good]);
    expect(stored.explicitAcks).toHaveLength(1);
    const exhausted = (
      await (
        await call(`/admin/v1/dead-letters?tenantId=${id}`, { admin: true })
      ).json<{ items: { id: string; eventId: string; queue: string | null }[] }>()
    ).items.find((d) => d.eventId === good.id)!;
    expect(exhausted.queue).toBeNull();
    const replay = await call(`/admin/v1/dead-letters/${exhausted.id}/replay`, { admin: true, method: "POST" });
    expect(replay.status).toBe(200);
    expect((await replay.json<{ replayedTo: string[] }>()).replayedTo).toContain("notification");
    await vi.waitFor(
      async () => expect((await inbox(tenant.slug, alice)).items.some((n) => n.type === "friend_request")).toBe(true),
      { timeout: 10_000, interval: 250 },
    );

    await expectProblem(
      await call(`/admin/v1/dead-letters/nope/replay`, { admin: true, method: "POST" }),
      404,
      "dead_letter_not_found",
    );
    expect((await call("/admin/v1/dead-letters", {})).status).toBe(401);
    expect((await call("/admin/v1/queues", as(tenant.slug, alice))).status).toBe(401);
    const queues = await (await call("/admin/v1/queues", { admin: true })).json<{
      queues: { queue: string; processed: number; deadLettered: number }[];
    }>();
    const n = queues.queues.find((q) => q.queue === "canopy-notification");
    expect(n?.deadLettered).toBeGreaterThanOrEqual(2);
  });

  it("an event carries its tenant: nothing lands in another tenant; unknown tenants are dropped", async () => {
    const a = await tenantWithOwner();
    const b = await tenantWithOwner();
    const bob = await registerUser(b.tenant.slug);
    const { id: aId } = await tenantDbOf(a.tenant.slug);
    // B's user id inside an event of A: A's DB has no such user, B's inbox stays empty.
    const r = await deliver("canopy-notification", [
      cloudEvent(aId, "friend.request.received", {
        userId: bob.userId,
        fromUserId: bob.userId,
        requestId: "x",
        message: null,
      }),
      cloudEvent("t_does_not_exist", "friend.request.received", {
        userId: bob.userId,
        fromUserId: bob.userId,
        requestId: "y",
        message: null,
      }),
    ]);
    expect(r.explicitAcks).toHaveLength(2);
    expect((await inbox(b.tenant.slug, bob)).items).toHaveLength(0);
  });
});
