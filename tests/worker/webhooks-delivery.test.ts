import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { runScheduled } from "../../src/workers/gateway/background";
import { nextAttemptAt } from "../../src/workers/webhooks/deliver";
import { urlProblem } from "../../src/lib/outbound/url";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";
import {
  cloudEvent,
  createEndpoint,
  deliverEvents,
  deliveries,
  delivery,
  failNext,
  hook,
  received,
  type EndpointJson,
} from "./webhook-helpers";

const HOUR = 3600_000;
const eventIdOf = (body: string) => (JSON.parse(body) as { data: { id: string } }).data.id;

describe("webhook delivery", () => {
  it("routes events by exact type, prefix wildcard and *; disabled endpoints and other types get nothing", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const [exact, prefix, all, off] = [hook(), hook(), hook(), hook()];
    await createEndpoint(tenant.slug, owner, { url: exact.url, eventTypes: ["acme.order.paid"] });
    await createEndpoint(tenant.slug, owner, { url: prefix.url, eventTypes: ["acme.order.*", "acme.refund"] });
    await createEndpoint(tenant.slug, owner, { url: all.url, eventTypes: ["*"] });
    const disabled = await createEndpoint(tenant.slug, owner, { url: off.url, eventTypes: ["*"] });
    const patched = await call(`/v1/admin/webhooks/${disabled.id}`, {
      method: "PATCH",
      ...as(tenant.slug, owner),
      json: { enabled: false },
    });
    expect(await patched.json()).toMatchObject({ enabled: false, disabledReason: "disabled by an administrator" });

    const events = ["acme.order.paid", "acme.order.refund.issued", "acme.refund", "acme.orders", "other.thing"].map(
      (t) => cloudEvent(tenant.id, t, { t }),
    );
    await deliverEvents(events);
    const ids = Object.fromEntries(events.map((e) => [e.id, e.type]));
    // Real events of this tenant (the owner's sign-up and login) may arrive too: look at ours only.
    const typesAt = async (path: string) =>
      (await received(path))
        .map((r) => ids[eventIdOf(r.body)])
        .filter(Boolean)
        .sort();
    expect(await typesAt(exact.path)).toEqual(["acme.order.paid"]);
    expect(await typesAt(prefix.path)).toEqual(["acme.order.paid", "acme.order.refund.issued", "acme.refund"]);
    expect(await typesAt(all.path)).toEqual(Object.values(ids).sort());
    expect(await received(off.path)).toEqual([]);
  });

  it("a redelivered event makes one delivery and one request", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const h = hook();
    const ep = await createEndpoint(tenant.slug, owner, { url: h.url, eventTypes: ["acme.once"] });
    const e = cloudEvent(tenant.id, "acme.once", { n: 1 });
    const first = await deliverEvents([e, e]);
    expect(first.explicitAcks).toHaveLength(2);
    await deliverEvents([e]);
    expect(await deliveries(tenant.slug, owner, ep.id)).toHaveLength(1);
    expect((await received(h.path)).map((r) => eventIdOf(r.body))).toEqual([e.id]);
  });

  it("retries with backoff against a receiver that fails 3 times then recovers: succeeded after 4 attempts, one webhook-id", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const h = hook();
    const ep = await createEndpoint(tenant.slug, owner, { url: h.url, eventTypes: ["acme.flaky"] });
    await failNext(h.path, 3, 503);
    const e = cloudEvent(tenant.id, "acme.flaky", { n: 1 });
    const before = Date.now();
    await deliverEvents([e]);
    const [pending] = await deliveries(tenant.slug, owner, ep.id);
    expect(pending).toMatchObject({ status: "pending", attempts: 1, lastResponseStatus: 503 });
    expect(pending!.lastError).toContain("HTTP 503");
    const wait = Date.parse(pending!.nextAttemptAt!) - before;
    expect(wait).toBeGreaterThanOrEqual(4_400);
    expect(wait).toBeLessThan(5_600 + (Date.now() - before));
    expect(
      (await (await call(`/v1/admin/webhooks/${ep.id}`, as(tenant.slug, owner))).json<EndpointJson>())
        .consecutiveFailures,
    ).toBe(1);

    // Each sweep (the clock moved on) makes one attempt.
    for (const step of [1, 2, 3]) await runScheduled(env, Date.now() + step * 6 * HOUR);
    const d = await delivery(tenant.slug, owner, ep.id, pending!.id);
    expect(d).toMatchObject({
      status: "succeeded",
      attempts: 4,
      lastResponseStatus: 200,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(d.attemptLog!.map((a) => [a.n, a.trigger, a.responseStatus])).toEqual([
      [1, "event", 503],
      [2, "retry", 503],
      [3, "retry", 503],
      [4, "retry", 200],
    ]);
    // No retry came before its time (whichever sweep made it): 5 s, then 30 s, then 2 min, less 10 % jitter.
    const at = d.attemptLog!.map((a) => Date.parse(a.attemptedAt));
    [4_500, 27_000, 108_000].forEach((gap, i) => expect(at[i + 1]! - at[i]!).toBeGreaterThanOrEqual(gap));
    const reqs = await received(h.path);
    expect(reqs.map((r) => r.status)).toEqual([503, 503, 503, 200]);
    expect(new Set(reqs.map((r) => r.headers["webhook-id"]))).toEqual(new Set([pending!.id]));
    expect(new Set(reqs.map((r) => r.body)).size).toBe(1);
    for (const r of reqs) expect(() => new Webhook(ep.secret).verify(r.body, r.headers)).not.toThrow();
    expect(
      (await (await call(`/v1/admin/webhooks/${ep.id}`, as(tenant.slug, owner))).json<EndpointJson>())
        .consecutiveFailures,
    ).toBe(0);
    expect((await deliveries(tenant.slug, owner, ep.id, "?status=succeeded")).map((x) => x.id)).toEqual([pending!.id]);
    expect(await deliveries(tenant.slug, owner, ep.id, "?status=pending")).toEqual([]);
  });

  it("an endpoint that always fails is disabled after the threshold with a webhook.disabled event and a notice; enabling it again resumes", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const h = hook();
    const ep = await createEndpoint(tenant.slug, owner, { url: h.url, eventTypes: ["acme.doomed"] });
    await failNext(h.path, 1000, 500);
    const [e1, e2] = [cloudEvent(tenant.id, "acme.doomed", { n: 1 }), cloudEvent(tenant.id, "acme.doomed", { n: 2 })];
    await deliverEvents([e1]);
    // While the endpoint is failing, new events are not tried inline: they wait for the sweep.
    await deliverEvents([e2]);
    let clock = Date.now();
    for (let i = 0; i < 8; i++) {
      clock += 6 * HOUR;
      await runScheduled(env, clock);
      const now = await (await call(`/v1/admin/webhooks/${ep.id}`, as(tenant.slug, owner))).json<EndpointJson>();
      if (!now.enabled) break;
    }
    const after = await (await call(`/v1/admin/webhooks/${ep.id}`, as(tenant.slug, owner))).json<EndpointJson>();
    expect(after.enabled).toBe(false);
    expect(after.consecutiveFailures).toBeGreaterThanOrEqual(8);
    expect(after.disabledReason).toMatch(/consecutive failed attempts since .*HTTP 500/);
    const list = await deliveries(tenant.slug, owner, ep.id);
    const d2 = list.find((d) => d.eventId === e2.id)!;
    expect((await delivery(tenant.slug, owner, ep.id, d2.id)).attemptLog![0]!.trigger).toBe("retry");
    // Not given up: they wait for the endpoint to come back.
    expect(list.map((d) => d.status)).toEqual(["pending", "pending"]);
    const { db } = await tenantDbOf(tenant.slug);
    const [row] = await db.all<{ type: string; subject: string; data: string }>(
      sql`SELECT type, subject, data FROM outbox WHERE type = 'webhook.disabled'`,
    );
    expect(row).toMatchObject({ type: "webhook.disabled", subject: ep.id });
    expect(JSON.parse(row!.data)).toMatchObject({ endpointId: ep.id, url: h.url, reason: after.disabledReason });
    // Disabled: further sweeps and events send nothing; manual retries are refused.
    const sent = (await received(h.path)).length;
    await runScheduled(env, clock + 24 * HOUR);
    await deliverEvents([cloudEvent(tenant.id, "acme.doomed", { n: 3 })]);
    expect((await received(h.path)).length).toBe(sent);
    await expectProblem(
      await call(`/v1/admin/webhooks/${ep.id}/deliveries/${list[0]!.id}/retry`, {
        method: "POST",
        ...as(tenant.slug, owner),
      }),
      409,
      "webhook_endpoint_disabled",
    );
    // The owner is told (the notification consumer turns the event into an inbox entry).
    await vi.waitFor(
      async () => {
        const inbox = await (await call("/v1/notifications", as(tenant.slug, owner))).json<{
          items: { type: string; body: string }[];
        }>();
        expect(inbox.items.find((n) => n.type === "webhook_disabled")?.body).toContain(h.url);
      },
      { timeout: 15_000, interval: 250 },
    );

    // Fixed and enabled again: the failure run is cleared and the pending e2 goes out.
    await failNext(h.path, 0);
    const enabled = await (
      await call(`/v1/admin/webhooks/${ep.id}`, { method: "PATCH", ...as(tenant.slug, owner), json: { enabled: true } })
    ).json<EndpointJson>();
    expect(enabled).toMatchObject({ enabled: true, disabledReason: null, consecutiveFailures: 0 });
    await runScheduled(env, clock + 48 * HOUR);
    expect((await deliveries(tenant.slug, owner, ep.id)).map((d) => d.status)).toEqual(["succeeded", "succeeded"]);
  });

  it("redirects are not followed; a manual retry sends the same message again, under the same webhook-id", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const h = hook();
    const ep = await createEndpoint(tenant.slug, owner, { url: h.url, eventTypes: ["acme.moved"], maxAttempts: 1 });
    await failNext(h.path, 1, 302);
    const e = cloudEvent(tenant.id, "acme.moved", {});
    await deliverEvents([e]);
    const [d] = await deliveries(tenant.slug, owner, ep.id);
    expect(d).toMatchObject({ status: "failed", attempts: 1, lastResponseStatus: 302, nextAttemptAt: null });
    expect(d!.lastError).toContain("redirects are not followed");
    expect(await received(`${h.path}/redirected`)).toEqual([]);

    const res = await call(`/v1/admin/webhooks/${ep.id}/deliveries/${d!.id}/retry`, {
      method: "POST",
      ...as(tenant.slug, owner),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({
      id: d!.id,
      status: "succeeded",
      attempts: 2,
      attemptLog: [
        { n: 1, trigger: "event" },
        { n: 2, trigger: "manual", responseStatus: 200 },
      ],
    });
    const reqs = await received(h.path);
    expect(reqs.map((r) => r.headers["webhook-id"])).toEqual([d!.id, d!.id]);
    expect(reqs[0]!.body).toBe(reqs[1]!.body);
    await expectProblem(
      await call(`/v1/admin/webhooks/${ep.id}/deliveries/nope/retry`, { method: "POST", ...as(tenant.slug, owner) }),
      404,
      "webhook_delivery_not_found",
    );
  });

  it("a real event (a sign-up) reaches a subscribed endpoint through the outbox and the queue", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const h = hook();
    const ep = await createEndpoint(tenant.slug, owner, { url: h.url, eventTypes: ["user.registered"] });
    const alice = await registerUser(tenant.slug);
    await vi.waitFor(
      async () => {
        const got = (await received(h.path)).map(
          (r) =>
            new Webhook(ep.secret).verify(r.body, r.headers) as { type: string; data: { data: { userId: string } } },
        );
        expect(got.map((p) => p.data.data.userId)).toContain(alice.userId);
        expect(new Set(got.map((p) => p.type))).toEqual(new Set(["user.registered"]));
      },
      { timeout: 15_000, interval: 250 },
    );
  });

  it("backoff grows with jitter and stops at the attempt limit; outside development only public https URLs are allowed", () => {
    const t = 1_000_000;
    expect(nextAttemptAt(1, 8, t, 0.5)).toBe(t + 5_000);
    expect(nextAttemptAt(2, 8, t, 0.5)).toBe(t + 30_000);
    expect(nextAttemptAt(3, 8, t, 0)).toBe(t + 108_000);
    expect(nextAttemptAt(7, 8, t, 1)).toBe(t + 7_920_000);
    expect(nextAttemptAt(8, 8, t)).toBeNull();
    expect(nextAttemptAt(11, 12, t, 0.5)).toBe(t + 86_400_000);

    expect(urlProblem("http://127.0.0.1:8080/hook", "development")).toBeNull();
    expect(urlProblem("https://hooks.example.com/canopy", "production")).toBeNull();
    expect(urlProblem("https://93.184.216.34/x", "production")).toBeNull();
    for (const bad of [
      "http://hooks.example.com/",
      "https://localhost/",
      "https://api.localhost/",
      "https://127.0.0.1/",
      "https://2130706433/",
      "https://0x7f.1/",
      "https://10.1.2.3/",
      "https://172.20.0.1/",
      "https://192.168.1.1/",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/",
      "https://0.0.0.0/",
      "https://[::1]/",
      "https://[fd00::1]/",
      "https://[fe80::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://u:p@example.com/",
    ]) {
      expect(urlProblem(bad, "production"), bad).not.toBeNull();
    }
  });
});
