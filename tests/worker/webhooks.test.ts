import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";
import {
  cloudEvent,
  createEndpoint,
  deliverEvents,
  deliveries,
  hook,
  received,
  type DeliveryJson,
  type EndpointJson,
  type Received,
} from "./webhook-helpers";

const verifies = (secret: string, r: Received) => {
  try {
    new Webhook(secret).verify(r.body, r.headers);
    return true;
  } catch {
    return false;
  }
};

async function sendTest(slug: string, who: Parameters<typeof as>[1], id: string): Promise<DeliveryJson> {
  const res = await call(`/v1/admin/webhooks/${id}/test`, { method: "POST", ...as(slug, who) });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

async function rotate(slug: string, who: Parameters<typeof as>[1], id: string, json?: Record<string, unknown>) {
  const res = await call(`/v1/admin/webhooks/${id}/rotate-secret`, {
    method: "POST",
    ...as(slug, who),
    ...(json ? { json } : {}),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<{ secret: string; previousSecretExpiresAt: string | null }>();
}

describe("webhook endpoints", () => {
  it("the secret is shown once; a test message is signed per Standard Webhooks and verifies with the reference library", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const h = hook();
    const created = await createEndpoint(tenant.slug, owner, {
      url: h.url,
      eventTypes: ["user.*", "user.*"],
      description: "CRM sync",
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(atob(created.secret.slice(6))).toHaveLength(32);
    expect(created).toMatchObject({
      url: h.url,
      eventTypes: ["user.*"],
      description: "CRM sync",
      enabled: true,
      maxAttempts: 8,
      consecutiveFailures: 0,
    });

    const one = await (await call(`/v1/admin/webhooks/${created.id}`, as(tenant.slug, owner))).json<EndpointJson>();
    const list = await (await call("/v1/admin/webhooks", as(tenant.slug, owner))).json<{
      items: EndpointJson[];
      nextCursor: string | null;
    }>();
    expect(one.secret).toBeUndefined();
    expect(list.items.map((e) => e.id)).toEqual([created.id]);
    expect(JSON.stringify(list)).not.toContain(created.secret.slice(6));

    const d = await sendTest(tenant.slug, owner, created.id);
    expect(d).toMatchObject({ status: "succeeded", attempts: 1, eventType: "webhook.test", lastResponseStatus: 200 });
    expect(d.attemptLog).toEqual([
      expect.objectContaining({ n: 1, trigger: "test", responseStatus: 200, error: null }),
    ]);
    const [req, ...more] = await received(h.path);
    expect(more).toHaveLength(0);
    expect(req!.method).toBe("POST");
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(req!.headers["webhook-id"]).toBe(d.id);
    expect(Math.abs(Number(req!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    const payload = new Webhook(created.secret).verify(req!.body, req!.headers) as DeliveryJson["payload"];
    expect(payload).toMatchObject({
      type: "webhook.test",
      data: { id: d.eventId, type: "webhook.test", data: { endpointId: created.id } },
    });
    expect(Date.parse(payload!.timestamp)).not.toBeNaN();
    // Any change to the body, the id or the timestamp, or another secret, fails verification.
    expect(verifies(created.secret, { ...req!, body: req!.body.replace("webhook.test", "webhook.tesT") })).toBe(false);
    expect(verifies(created.secret, { ...req!, headers: { ...req!.headers, "webhook-id": "other" } })).toBe(false);
    expect(
      verifies(created.secret, {
        ...req!,
        headers: { ...req!.headers, "webhook-timestamp": String(Number(req!.headers["webhook-timestamp"]) - 1) },
      }),
    ).toBe(false);
    expect(verifies(`whsec_${btoa("x".repeat(32))}`, req!)).toBe(false);
  });

  it("rotation: both secrets sign during the overlap, each verifies alone; after it only the new one; 0 stops the old ones at once", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const h = hook();
    const { id, secret: s1 } = await createEndpoint(tenant.slug, owner, { url: h.url, eventTypes: ["acme.rotation"] });
    const r2 = await rotate(tenant.slug, owner, id);
    const s2 = r2.secret;
    expect(s2).not.toBe(s1);
    expect(Date.parse(r2.previousSecretExpiresAt!) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    expect(
      (await (await call(`/v1/admin/webhooks/${id}`, as(tenant.slug, owner))).json<EndpointJson>())
        .previousSecretExpiresAt,
    ).toBe(r2.previousSecretExpiresAt);

    await sendTest(tenant.slug, owner, id);
    const [during] = await received(h.path);
    expect(during!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(verifies(s1, during!)).toBe(true);
    expect(verifies(s2, during!)).toBe(true);

    // Rotating again with a short overlap shortens every previous secret's; once it ends, only the newest signs.
    const r3 = await rotate(tenant.slug, owner, id, { expiresInSeconds: 1 });
    expect(Date.parse(r3.previousSecretExpiresAt!) - Date.now()).toBeLessThanOrEqual(1000);
    await vi.waitFor(
      async () => {
        await sendTest(tenant.slug, owner, id);
        const last = (await received(h.path)).at(-1)!;
        expect(last.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
        expect([verifies(r3.secret, last), verifies(s2, last), verifies(s1, last)]).toEqual([true, false, false]);
      },
      { timeout: 5_000, interval: 300 },
    );

    // A leaked secret: rotate with no overlap, every previous secret stops signing now.
    const r4 = await rotate(tenant.slug, owner, id, { expiresInSeconds: 0 });
    expect(r4.previousSecretExpiresAt).toBeNull();
    await sendTest(tenant.slug, owner, id);
    const last = (await received(h.path)).at(-1)!;
    expect(last.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect([verifies(r4.secret, last), verifies(r3.secret, last)]).toEqual([true, false]);
    await expectProblem(
      await call(`/v1/admin/webhooks/${id}/rotate-secret`, {
        method: "POST",
        ...as(tenant.slug, owner),
        json: { expiresInSeconds: 8 * 86_400 },
      }),
      400,
      "validation_failed",
    );
  });

  it("rejects bad input with 400, oversized bodies with 413, and a 21st endpoint with 409", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const post = (json: unknown) => call("/v1/admin/webhooks", { method: "POST", ...as(tenant.slug, owner), json });
    const ok = { url: hook().url, eventTypes: ["user.registered"] };
    for (const url of [
      "ftp://example.com/x",
      "/relative",
      "example.com/hook",
      "javascript:alert(1)",
      "https://user:pw@example.com/",
      `https://example.com/${"a".repeat(2048)}`,
      42,
    ]) {
      await expectProblem(await post({ ...ok, url }), 400, "validation_failed");
    }
    for (const eventTypes of [
      [],
      ["User.Registered"],
      ["user.**"],
      ["*.created"],
      ["a b"],
      Array.from({ length: 51 }, (_, i) => `t.e${i}`),
      "user.registered",
    ]) {
      await expectProblem(await post({ ...ok, eventTypes }), 400, "validation_failed");
    }
    await expectProblem(await post({ ...ok, maxAttempts: 0 }), 400, "validation_failed");
    await expectProblem(await post({ ...ok, maxAttempts: 13 }), 400, "validation_failed");
    await expectProblem(await post({ ...ok, secret: "whsec_mine" }), 400, "validation_failed");
    await expectProblem(await post({ ...ok, description: "x".repeat(501) }), 400, "validation_failed");
    await expectProblem(
      await call("/v1/admin/webhooks", {
        method: "POST",
        ...as(tenant.slug, owner),
        headers: { ...as(tenant.slug, owner).headers, "content-type": "application/json" },
        body: "{not json",
      }),
      400,
      "malformed_json",
    );
    await expectProblem(await post({ ...ok, description: "x".repeat(2 * 1024 * 1024) }), 413, "body_too_large");

    const { id } = await createEndpoint(tenant.slug, owner, ok);
    await expectProblem(
      await call(`/v1/admin/webhooks/${id}`, { method: "PATCH", ...as(tenant.slug, owner), json: {} }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call(`/v1/admin/webhooks/${id}`, {
        method: "PATCH",
        ...as(tenant.slug, owner),
        json: { url: "gopher://x" },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(await call("/v1/admin/webhooks?cursor=garbage", as(tenant.slug, owner)), 400, "invalid_cursor");
    for (let i = 1; i < 20; i++) await createEndpoint(tenant.slug, owner, { ...ok, description: `#${i}` });
    await expectProblem(await post(ok), 409, "webhook_endpoint_limit");
    // Pages of 7: every endpoint exactly once.
    const seen: string[] = [];
    for (let cursor: string | null = ""; cursor !== null; ) {
      const page: { items: EndpointJson[]; nextCursor: string | null } = await (
        await call(`/v1/admin/webhooks?limit=7${cursor ? `&cursor=${cursor}` : ""}`, as(tenant.slug, owner))
      ).json();
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
    }
    expect(new Set(seen).size).toBe(20);
  });

  it("a burst of parallel creations never passes the cap: 15 sequential then 20 parallel make exactly 20 endpoints", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const ok = { url: hook().url, eventTypes: ["user.registered"] };
    for (let i = 0; i < 15; i++) await createEndpoint(tenant.slug, owner, { ...ok, description: `seq ${i}` });
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call("/v1/admin/webhooks", {
          method: "POST",
          ...as(tenant.slug, owner),
          json: { ...ok, description: `burst ${i}` },
        }),
      ),
    );
    const created = burst.filter((r) => r.status === 201);
    expect(created).toHaveLength(5);
    // Every refusal is the same 409 a sequential over-cap creation gets.
    for (const res of burst.filter((r) => r.status !== 201)) await expectProblem(res, 409, "webhook_endpoint_limit");
    const list = await (await call("/v1/admin/webhooks?limit=50", as(tenant.slug, owner))).json<{
      items: EndpointJson[];
    }>();
    expect(list.items).toHaveLength(20);
    // A refused creation left no secret behind (it would be an orphan).
    const [row] = await (await tenantDbOf(tenant.slug)).db.all<{ orphans: number }>(
      sql`SELECT count(*) AS orphans FROM webhook_secrets WHERE endpoint_id NOT IN (SELECT id FROM webhook_endpoints)`,
    );
    expect(row!.orphans).toBe(0);
  });

  it("link-local, cloud metadata and wildcard-DNS URLs are refused with 400 in every environment, development included", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const post = (json: unknown) => call("/v1/admin/webhooks", { method: "POST", ...as(tenant.slug, owner), json });
    const { id } = await createEndpoint(tenant.slug, owner, { url: hook().url, eventTypes: ["*"] });
    for (const url of [
      "http://169.254.169.254/latest/meta-data/",
      "http://2852039166/",
      "http://[::ffff:169.254.169.254]/",
      "http://[64:ff9b::a9fe:a9fe]/",
      "http://[2002:a9fe:a9fe::]/",
      "http://[fe80::1]/",
      "http://[fd00:ec2::254]/",
      "http://100.100.100.200/",
      "http://metadata.google.internal/",
      "http://metadata/",
      "http://127.0.0.1.nip.io/",
      "http://app.localtest.me/",
    ]) {
      await expectProblem(await post({ url, eventTypes: ["*"] }), 400, "webhook_url_not_allowed");
      await expectProblem(
        await call(`/v1/admin/webhooks/${id}`, { method: "PATCH", ...as(tenant.slug, owner), json: { url } }),
        400,
        "webhook_url_not_allowed",
      );
    }
    // Development keeps loopback for local receivers (the tests' receiver is on 127.0.0.1).
    expect((await post({ url: "http://127.0.0.1:9/hook", eventTypes: ["acme.never"] })).status).toBe(201);
  });

  it("outside development, URLs that reach loopback or private hosts in any spelling are refused with 400", async () => {
    const { tenant, owner } = await tenantWithOwner();
    // The real Worker with ENVIRONMENT=production (every binding as in the other tests).
    const production = { ...env, ENVIRONMENT: "production" };
    const post = async (url: string) => {
      const ctx = createExecutionContext();
      const headers = {
        ...as(tenant.slug, owner).headers,
        "x-tenant": tenant.slug,
        "content-type": "application/json",
      };
      // An event type that never fires: nothing is ever sent to these hosts.
      const res = await worker.fetch(
        new Request("http://api.test/v1/admin/webhooks", {
          method: "POST",
          headers,
          body: JSON.stringify({ url, eventTypes: ["acme.never"] }),
        }),
        production,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res;
    };
    for (const url of [
      "https://[::7f00:1]/",
      "https://[64:ff9b::169.254.169.254]/",
      "https://[2002:a9fe:a9fe::]/",
      "https://[::ffff:0:7f00:1]/",
      "https://[fec0::1]/",
      "https://127.0.0.1.nip.io/",
      "https://metadata.google.internal/",
      "https://db.internal/",
      "https://printer.local/",
      "http://example.com/",
    ])
      await expectProblem(await post(url), 400, "webhook_url_not_allowed");
    expect((await post("https://example.com/hooks")).status).toBe(201);
  });

  it("permissions: members get 403, the seeded admin role manages webhooks, a read-only API key reads but does not write", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const [member, admin] = [await registerUser(tenant.slug), await registerUser(tenant.slug)];
    const ok = { url: hook().url, eventTypes: ["*"] };
    await expectProblem(await call("/v1/admin/webhooks", as(tenant.slug, member)), 403, "forbidden");
    await expectProblem(
      await call("/v1/admin/webhooks", { method: "POST", ...as(tenant.slug, member), json: ok }),
      403,
      "forbidden",
    );
    await expectProblem(await call("/v1/admin/webhooks", { tenant: tenant.slug }), 401, "unauthenticated");

    expect(
      (
        await call(`/v1/admin/users/${admin.userId}/roles`, {
          method: "PUT",
          ...as(tenant.slug, owner),
          json: { roles: ["admin"] },
        })
      ).status,
    ).toBe(200);
    const created = await createEndpoint(tenant.slug, admin, ok);
    await expectProblem(
      await call(`/v1/admin/webhooks/${created.id}`, { method: "DELETE", ...as(tenant.slug, member) }),
      403,
      "forbidden",
    );
    await expectProblem(
      await call(`/v1/admin/webhooks/${created.id}/rotate-secret`, { method: "POST", ...as(tenant.slug, member) }),
      403,
      "forbidden",
    );

    const keyRes = await call("/v1/admin/api-keys", {
      method: "POST",
      ...as(tenant.slug, owner),
      json: { name: "reader", permissions: ["webhooks:read"] },
    });
    const { key } = await keyRes.json<{ key: string }>();
    const asKey = { tenant: tenant.slug, headers: { authorization: `Bearer ${key}` } };
    expect((await call("/v1/admin/webhooks", asKey)).status).toBe(200);
    expect((await call(`/v1/admin/webhooks/${created.id}/deliveries`, asKey)).status).toBe(200);
    await expectProblem(
      await call(`/v1/admin/webhooks/${created.id}/test`, { method: "POST", ...asKey }),
      403,
      "forbidden",
    );
    expect(
      (await call(`/v1/admin/webhooks/${created.id}`, { method: "DELETE", ...as(tenant.slug, admin) })).status,
    ).toBe(204);
    await expectProblem(
      await call(`/v1/admin/webhooks/${created.id}`, as(tenant.slug, admin)),
      404,
      "webhook_endpoint_not_found",
    );
  });

  it("isolation: another tenant's admin sees and changes nothing (404), and events never cross tenants", async () => {
    const [a, b] = [await tenantWithOwner(), await tenantWithOwner()];
    const [ha, hb] = [hook(), hook()];
    const ea = await createEndpoint(a.tenant.slug, a.owner, { url: ha.url, eventTypes: ["acme.*"] });
    const eb = await createEndpoint(b.tenant.slug, b.owner, { url: hb.url, eventTypes: ["acme.*"] });
    const asB = as(b.tenant.slug, b.owner);
    await expectProblem(await call(`/v1/admin/webhooks/${ea.id}`, asB), 404, "webhook_endpoint_not_found");
    await expectProblem(
      await call(`/v1/admin/webhooks/${ea.id}`, { method: "PATCH", ...asB, json: { url: hb.url } }),
      404,
      "webhook_endpoint_not_found",
    );
    await expectProblem(
      await call(`/v1/admin/webhooks/${ea.id}`, { method: "DELETE", ...asB }),
      404,
      "webhook_endpoint_not_found",
    );
    await expectProblem(
      await call(`/v1/admin/webhooks/${ea.id}/rotate-secret`, { method: "POST", ...asB }),
      404,
      "webhook_endpoint_not_found",
    );
    await expectProblem(
      await call(`/v1/admin/webhooks/${ea.id}/test`, { method: "POST", ...asB }),
      404,
      "webhook_endpoint_not_found",
    );
    await expectProblem(await call(`/v1/admin/webhooks/${ea.id}/deliveries`, asB), 404, "webhook_endpoint_not_found");
    expect(
      (await (await call("/v1/admin/webhooks", asB)).json<{ items: EndpointJson[] }>()).items.map((e) => e.id),
    ).toEqual([eb.id]);
    // B's token does not open A's tenant either.
    expect((await call("/v1/admin/webhooks", { tenant: a.tenant.slug, headers: asB.headers })).status).toBe(401);

    const [evA, evB] = [
      cloudEvent(a.tenant.id, "acme.order.paid", { order: "A-1" }),
      cloudEvent(b.tenant.id, "acme.order.paid", { order: "B-1" }),
    ];
    await deliverEvents([evA, evB]);
    const [gotA, gotB] = [await received(ha.path), await received(hb.path)];
    expect(gotA.map((r) => JSON.parse(r.body).data.id)).toEqual([evA.id]);
    expect(gotB.map((r) => JSON.parse(r.body).data.id)).toEqual([evB.id]);
    expect(verifies(ea.secret, gotA[0]!) && verifies(eb.secret, gotB[0]!)).toBe(true);
    expect(verifies(ea.secret, gotB[0]!)).toBe(false);
    // A delivery of A is not reachable through B's endpoint path either.
    const [da] = await deliveries(a.tenant.slug, a.owner, ea.id);
    await expectProblem(
      await call(`/v1/admin/webhooks/${eb.id}/deliveries/${da!.id}`, asB),
      404,
      "webhook_delivery_not_found",
    );
    await expectProblem(
      await call(`/v1/admin/webhooks/${eb.id}/deliveries/${da!.id}/retry`, { method: "POST", ...asB }),
      404,
      "webhook_delivery_not_found",
    );
  });

  it("the OpenAPI document describes the webhook API", async () => {
    const doc = await (await call("/openapi.json")).json<{
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(Object.keys(doc.paths["/v1/admin/webhooks"]!).sort()).toEqual(["get", "post"]);
    expect(Object.keys(doc.paths["/v1/admin/webhooks/{id}"]!).sort()).toEqual(["delete", "get", "patch"]);
    for (const p of [
      "/v1/admin/webhooks/{id}/rotate-secret",
      "/v1/admin/webhooks/{id}/test",
      "/v1/admin/webhooks/{id}/deliveries/{deliveryId}/retry",
    ])
      expect(doc.paths[p]?.post).toBeTruthy();
    expect(doc.paths["/v1/admin/webhooks/{id}/deliveries"]?.get).toBeTruthy();
    expect(doc.components.schemas).toHaveProperty("CreatedWebhookEndpoint");
  });
});
