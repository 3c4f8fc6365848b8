import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { platformDb } from "../../src/db/client";
import { findTenantBySlug } from "../../src/db/platform/tenants";
import { call, createTenant, expectProblem, uniqueSlug, type TenantJson } from "./helpers";

describe("tenant lifecycle through the admin API", () => {
  it("creates a tenant with its own migrated database and never returns the credential", async () => {
    const t = await createTenant({ name: "Acme", plan: "pro", config: { features: { chat: true } } });
    expect(t).toMatchObject({ name: "Acme", plan: "pro", status: "active", deletedAt: null });
    expect(t.config.features).toEqual({ chat: true });
    expect(t.database.provider).toBe("local");
    expect(t.database.url).toContain(`/dev/${t.database.name}/`);
    expect(Object.keys(t.database).sort()).toEqual(["name", "provider", "url"]); // no credential

    const row = await findTenantBySlug(platformDb(env), t.slug);
    expect(row?.dbTokenSealed).toMatch(/^v1\./); // sealed at rest

    const mig = await call(`/admin/v1/tenants/${t.slug}/migrations`, { admin: true });
    expect(mig.status).toBe(200);
    const status = await mig.json<{
      version: number;
      latest: number;
      pending: unknown[];
      applied: { version: number }[];
    }>();
    expect(status.version).toBe(status.latest);
    expect(status.pending).toEqual([]);
    expect(status.applied.map((a) => a.version)).toEqual([...Array(status.latest).keys()].map((i) => i + 1));

    const info = await call("/v1/tenant", { tenant: t.slug });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ id: t.id, slug: t.slug, name: "Acme", features: { chat: true } });
  });

  it("refuses a duplicate slug", async () => {
    const t = await createTenant();
    await expectProblem(
      await call("/admin/v1/tenants", { method: "POST", admin: true, json: { slug: t.slug, name: "x" } }),
      409,
      "tenant_exists",
    );
  });

  it("lets exactly one of two racing creates of the same slug win", async () => {
    const slug = uniqueSlug("race");
    const [a, b] = await Promise.all(
      [0, 1].map(() => call("/admin/v1/tenants", { method: "POST", admin: true, json: { slug, name: "Race" } })),
    );
    expect([a!.status, b!.status].sort()).toEqual([201, 409]);
  });

  it.each([
    ["too short", "ab"],
    ["uppercase", "Acme"],
    ["leading digit", "1acme"],
    ["trailing dash", "acme-"],
    ["double dash", "ac--me"],
    ["reserved", "admin"],
    ["too long", "a".repeat(41)],
    ["dots", "a.b.c"],
  ])("rejects an invalid slug (%s)", async (_why, slug) => {
    const body = await expectProblem(
      await call("/admin/v1/tenants", { method: "POST", admin: true, json: { slug, name: "x" } }),
      400,
      "validation_failed",
    );
    expect(body.detail).toContain("slug");
  });

  it("rejects unknown fields, bad config and malformed JSON", async () => {
    await expectProblem(
      await call("/admin/v1/tenants", {
        method: "POST",
        admin: true,
        json: { slug: uniqueSlug(), name: "x", status: "active" },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/admin/v1/tenants", {
        method: "POST",
        admin: true,
        json: { slug: uniqueSlug(), name: "x", config: { allowedOrigins: ["javascript:alert(1)"] } },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/admin/v1/tenants", {
        method: "POST",
        admin: true,
        body: '{"slug": "x",',
        headers: { "content-type": "application/json" },
      }),
      400,
      "malformed_json",
    );
    await expectProblem(
      await call("/admin/v1/tenants", {
        method: "POST",
        admin: true,
        body: "slug=x",
        headers: { "content-type": "text/plain" },
      }),
      415,
      "unsupported_media_type",
    );
  });

  it("rejects an oversized body with 413, with or without Content-Length", async () => {
    const big = JSON.stringify({ slug: uniqueSlug(), name: "x".repeat(2 * 1024 * 1024) });
    await expectProblem(
      await call("/admin/v1/tenants", {
        method: "POST",
        admin: true,
        body: big,
        headers: { "content-type": "application/json" },
      }),
      413,
      "body_too_large",
    );
    const stream = new Blob([big]).stream();
    await expectProblem(
      await call("/admin/v1/tenants", {
        method: "POST",
        admin: true,
        body: stream,
        headers: { "content-type": "application/json" },
        duplex: "half",
      } as RequestInit),
      413,
      "body_too_large",
    );
  });

  it("gets, lists with cursors, and 404s unknown slugs", async () => {
    const created = [await createTenant(), await createTenant(), await createTenant()];
    const got = await call(`/admin/v1/tenants/${created[0]!.slug}`, { admin: true });
    expect((await got.json<TenantJson>()).id).toBe(created[0]!.id);
    await expectProblem(
      await call(`/admin/v1/tenants/${uniqueSlug("nope")}`, { admin: true }),
      404,
      "tenant_not_found",
    );

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(`/admin/v1/tenants?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { admin: true });
      const page = await res.json<{ items: TenantJson[]; nextCursor: string | null }>();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    for (const t of created) expect(seen).toContain(t.id);
    expect(new Set(seen).size).toBe(seen.length); // no duplicates across pages
    expect([...seen].sort().reverse()).toEqual(seen); // newest first

    await expectProblem(await call("/admin/v1/tenants?cursor=garbage", { admin: true }), 400, "invalid_cursor");
    await expectProblem(await call("/admin/v1/tenants?limit=1000", { admin: true }), 400, "validation_failed");
  });

  it("updates name, plan and a partial config; the public info follows", async () => {
    const t = await createTenant({ config: { features: { a: true, b: true } } });
    // Read once first: the read is prepared on the isolate's handle, and must still see the change.
    const before = await (await call("/v1/tenant", { tenant: t.slug })).json<{ name: string }>();
    expect(before.name).not.toBe("Renamed");
    const res = await call(`/admin/v1/tenants/${t.slug}`, {
      method: "PATCH",
      admin: true,
      json: { name: "Renamed", config: { features: { b: null, c: false }, limits: { maxBodyBytes: 4096 } } },
    });
    expect(res.status).toBe(200);
    const u = await res.json<TenantJson>();
    expect(u.name).toBe("Renamed");
    expect(u.config.features).toEqual({ a: true, c: false });
    expect(u.config.limits.maxBodyBytes).toBe(4096);
    const info = await (await call("/v1/tenant", { tenant: t.slug })).json<{ name: string }>();
    expect(info.name).toBe("Renamed");

    await expectProblem(
      await call(`/admin/v1/tenants/${t.slug}`, { method: "PATCH", admin: true, json: {} }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call(`/admin/v1/tenants/${t.slug}`, { method: "PATCH", admin: true, json: { plan: "gold" } }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call(`/admin/v1/tenants/${t.slug}`, {
        method: "PATCH",
        admin: true,
        json: { config: { limits: { maxBodyBytes: -1 } } },
      }),
      400,
      "validation_failed",
    );
  });

  it("suspends and resumes: tenant routes answer 403 tenant_suspended meanwhile", async () => {
    const t = await createTenant();
    expect((await call("/v1/tenant", { tenant: t.slug })).status).toBe(200);
    const s = await call(`/admin/v1/tenants/${t.slug}/suspend`, { method: "POST", admin: true });
    expect((await s.json<TenantJson>()).status).toBe("suspended");
    await expectProblem(await call("/v1/tenant", { tenant: t.slug }), 403, "tenant_suspended");
    const r = await call(`/admin/v1/tenants/${t.slug}/resume`, { method: "POST", admin: true });
    expect((await r.json<TenantJson>()).status).toBe("active");
    expect((await call("/v1/tenant", { tenant: t.slug })).status).toBe(200);
  });

  it("soft-deletes (routes 404, slug stays taken), then purges (database gone, slug free)", async () => {
    const t = await createTenant();
    await expectProblem(
      await call(`/admin/v1/tenants/${t.slug}/purge`, { method: "POST", admin: true }),
      409,
      "tenant_not_deleted",
    );
    const d = await call(`/admin/v1/tenants/${t.slug}`, { method: "DELETE", admin: true });
    expect((await d.json<TenantJson>()).status).toBe("deleted");
    await expectProblem(await call("/v1/tenant", { tenant: t.slug }), 404, "tenant_not_found");
    await expectProblem(
      await call(`/admin/v1/tenants/${t.slug}/resume`, { method: "POST", admin: true }),
      409,
      "tenant_deleted",
    );
    await expectProblem(
      await call("/admin/v1/tenants", { method: "POST", admin: true, json: { slug: t.slug, name: "again" } }),
      409,
      "tenant_exists",
    );

    expect((await call(`/admin/v1/tenants/${t.slug}/purge`, { method: "POST", admin: true })).status).toBe(204);
    await expectProblem(await call(`/admin/v1/tenants/${t.slug}`, { admin: true }), 404, "tenant_not_found");
    const list = await fetch(`${env.LIBSQL_ADMIN_URL}/v1/namespaces`, {
      headers: { authorization: `Bearer ${env.LIBSQL_ADMIN_TOKEN}` },
    });
    expect(await list.text()).not.toContain(t.database.name);
    const again = await createTenant({ slug: t.slug });
    expect(again.id).not.toBe(t.id);
  });
});
