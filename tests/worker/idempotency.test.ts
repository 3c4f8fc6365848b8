import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { platformDb } from "../../src/db/client";
import { claimIdempotencyKey, completeIdempotencyKey, IDEMPOTENCY_TTL_MS } from "../../src/db/platform/idempotency";
import { runCron } from "../../src/workers/events/cron";
import { call, expectProblem, uniqueSlug, type TenantJson } from "./helpers";

const create = (slug: string, key: string, name = "Idem") =>
  call("/admin/v1/tenants", { method: "POST", admin: true, json: { slug, name }, headers: { "idempotency-key": key } });

describe("Idempotency-Key on tenant creation", () => {
  it("replays the first response for a retry with the same key and body", async () => {
    const slug = uniqueSlug();
    const key = crypto.randomUUID();
    const first = await create(slug, key);
    expect(first.status).toBe(201);
    const a = await first.json<TenantJson>();
    const retry = await create(slug, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect((await retry.json<TenantJson>()).id).toBe(a.id);
  });

  it("refuses the same key with a different body", async () => {
    const key = crypto.randomUUID();
    expect((await create(uniqueSlug(), key)).status).toBe(201);
    await expectProblem(await create(uniqueSlug(), key), 422, "idempotency_key_reused");
  });

  it("creates exactly one tenant when the same keyed request races with itself", async () => {
    const slug = uniqueSlug();
    const key = crypto.randomUUID();
    const results = await Promise.all([create(slug, key), create(slug, key), create(slug, key)]);
    const statuses = results.map((r) => r.status);
    // One winner; the others either replay it (201) or are told to retry (409 in progress).
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    for (const s of statuses) expect([201, 409]).toContain(s);
    const ids = new Set<string>();
    for (const r of results) if (r.status === 201) ids.add((await r.json<TenantJson>()).id);
    expect(ids.size).toBe(1);
  });

  it("releases the key when the request fails, so a corrected retry can use it", async () => {
    const key = crypto.randomUUID();
    const taken = uniqueSlug();
    expect((await create(taken, key + "-first")).status).toBe(201);
    await expectProblem(await create(taken, key), 409, "tenant_exists");
    await expectProblem(await create(taken, key), 409, "tenant_exists"); // not stuck "in progress"
  });

  it("rejects a malformed key", async () => {
    await expectProblem(await create(uniqueSlug(), "short"), 400, "validation_failed");
    await expectProblem(await create(uniqueSlug(), "has spaces in it"), 400, "validation_failed");
  });

  it("forgets keys after their TTL (cron sweep)", async () => {
    const db = platformDb(env);
    const key = crypto.randomUUID();
    expect(await claimIdempotencyKey(db, "test", key, "h")).toBeNull();
    await completeIdempotencyKey(db, "test", key, { status: 200, body: { ok: true } });
    expect(await claimIdempotencyKey(db, "test", key, "h")).toEqual({ status: 200, body: { ok: true } });
    const swept = await runCron(env, [], Date.now() + IDEMPOTENCY_TTL_MS + 1000);
    expect(swept.idempotencyKeysSwept).toBeGreaterThanOrEqual(1);
    expect(await claimIdempotencyKey(db, "test", key, "h")).toBeNull();
  });
});

describe("Idempotency-Key on announcements", () => {
  it("a retried announcement is stored once and answered the same; another body or caller is its own request", async () => {
    const { tenantWithOwner, registerUser, as } = await import("./auth-helpers");
    const { tenant, owner } = await tenantWithOwner();
    const admin = await registerUser(tenant.slug);
    expect(
      (
        await call(`/v1/admin/users/${admin.userId}/roles`, {
          method: "PUT",
          ...as(tenant.slug, owner),
          json: { roles: ["admin", "member"] },
        })
      ).status,
    ).toBe(200);
    const announce = (who: typeof owner | typeof admin, key: string, title: string) =>
      call("/v1/admin/announcements", {
        method: "POST",
        tenant: tenant.slug,
        headers: { ...as(tenant.slug, who).headers, "idempotency-key": key },
        json: { title },
      });
    const key = crypto.randomUUID();
    const racing = await Promise.all(Array.from({ length: 4 }, () => announce(owner, key, "Maintenance tonight")));
    const stored = racing.filter((r) => r.status === 202);
    for (const r of racing.filter((x) => x.status !== 202)) await expectProblem(r, 409, "idempotency_in_progress");
    const retry = await announce(owner, key, "Maintenance tonight");
    expect(retry.status).toBe(202);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const ids = new Set([
      ...(await Promise.all(stored.map((r) => r.json<{ id: string }>()))).map((a) => a.id),
      (await retry.json<{ id: string }>()).id,
    ]);
    expect(ids.size).toBe(1);
    await expectProblem(await announce(owner, key, "Something else"), 422, "idempotency_key_reused");
    // The same key from another caller is another request.
    expect((await announce(admin, key, "Maintenance tonight")).status).toBe(202);
    const list = await (await call("/v1/admin/announcements?limit=100", as(tenant.slug, owner))).json<{
      items: unknown[];
    }>();
    expect(list.items).toHaveLength(2);
  });
});
