import { describe, expect, it } from "vitest";
import { aiTenant, grant, quotaOf } from "./ai-helpers";
import { as, bearer, registerUser } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

const path = (userId: string) => `/v1/admin/users/${userId}/ai-quota/grants`;

/**
 * Admin grants: records of every recharge, usable at once, refused to whoever lacks `ai:grant`
 * (members, moderators, another tenant's admin, an API key without the permission), replayed
 * under an Idempotency-Key, and validated.
 */
describe("AI quota grants", () => {
  it("a grant is usable at once and listed with paid packs; a retry with its key is replayed, not granted twice", async () => {
    const { slug, owner } = await aiTenant({ quota: { units: 0 } });
    const u = await registerUser(slug);
    const k = `grant-${crypto.randomUUID()}`;
    const post = () =>
      call(path(u.userId), {
        method: "POST",
        ...as(slug, owner),
        headers: { ...bearer(owner.tokens.accessToken), "idempotency-key": k },
        json: { units: 25, reason: "support ticket 42" },
      });
    const [a, b] = [await post(), await post()];
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    const first = await a.json<{ id: string; units: number; reason: string; grantedBy: string }>();
    expect(await b.json()).toEqual(first);
    expect(first).toMatchObject({ units: 25, reason: "support ticket 42" });
    expect(await quotaOf(slug, u)).toMatchObject({ limit: 0, packs: 25, remaining: 25, status: "ok" });
    await grant(slug, owner, u.userId, 5, "second");
    const list = await call(path(u.userId), as(slug, owner));
    expect(list.status).toBe(200);
    const { items } = await list.json<{ items: { units: number; source: string; used: number }[] }>();
    expect(items.map((g) => [g.source, g.units])).toEqual([
      ["grant", 5],
      ["grant", 25],
    ]);
    // The same key with another body is refused.
    const reused = await call(path(u.userId), {
      method: "POST",
      tenant: slug,
      headers: { ...bearer(owner.tokens.accessToken), "idempotency-key": k },
      json: { units: 26, reason: "support ticket 42" },
    });
    await expectProblem(reused, 422, "idempotency_key_reused");
  });

  it("members, another tenant's admin and unknown users are refused; nothing is granted", async () => {
    const { slug, owner } = await aiTenant();
    const other = await aiTenant();
    const [u, member] = [await registerUser(slug), await registerUser(slug)];
    const body = { units: 10, reason: "x" };
    await expectProblem(
      await call(path(u.userId), { method: "POST", ...as(slug, member), json: body }),
      403,
      "forbidden",
    );
    await expectProblem(await call(path(u.userId), as(slug, member)), 403, "forbidden");
    // Self-service is not a grant either.
    await expectProblem(
      await call(path(member.userId), { method: "POST", ...as(slug, member), json: body }),
      403,
      "forbidden",
    );
    // Another tenant's owner: its token is not valid here.
    expect((await call(path(u.userId), { method: "POST", ...as(slug, other.owner), json: body })).status).toBe(401);
    // A user of another tenant is unknown here.
    const stranger = await registerUser(other.slug);
    await expectProblem(
      await call(path(stranger.userId), { method: "POST", ...as(slug, owner), json: body }),
      404,
      "user_not_found",
    );
    expect(await quotaOf(slug, u)).toMatchObject({ packs: 0 });
    expect(await quotaOf(other.slug, stranger)).toMatchObject({ packs: 0 });
  });

  it("an API key grants only with ai:grant", async () => {
    const { slug, owner } = await aiTenant();
    const u = await registerUser(slug);
    const key = async (permissions: string[]) => {
      const res = await call("/v1/admin/api-keys", {
        method: "POST",
        ...as(slug, owner),
        json: { name: "bot", permissions },
      });
      expect(res.status, await res.clone().text()).toBe(201);
      return bearer((await res.json<{ key: string }>()).key);
    };
    const weak = await key(["ai:read"]);
    const strong = await key(["ai:grant"]);
    const body = { units: 3, reason: "from the billing system" };
    await expectProblem(
      await call(path(u.userId), { method: "POST", tenant: slug, headers: weak, json: body }),
      403,
      "forbidden",
    );
    const ok = await call(path(u.userId), { method: "POST", tenant: slug, headers: strong, json: body });
    expect(ok.status, await ok.clone().text()).toBe(201);
    expect((await ok.json<{ grantedBy: string }>()).grantedBy).toMatch(/^key:/);
    expect(await quotaOf(slug, u)).toMatchObject({ packs: 3 });
  });

  it("malformed grants are 400s with the field named", async () => {
    const { slug, owner } = await aiTenant();
    const u = await registerUser(slug);
    const bad = [
      { units: 0, reason: "zero" },
      { units: -5, reason: "negative" },
      { units: 1.5, reason: "fraction" },
      { units: 1e12, reason: "too many" },
      { units: "10", reason: "string" },
      { units: 10, reason: "" },
      { units: 10, reason: "x".repeat(501) },
      { units: 10, reason: "bell\u0007" },
      { units: 10, reason: "rtl \u202e override" },
      { units: 10, reason: "ok", extra: true },
      { units: 10 },
    ];
    for (const json of bad) {
      const res = await call(path(u.userId), { method: "POST", ...as(slug, owner), json });
      const p = await expectProblem(res, 400, "validation_failed");
      expect(p.errors?.length, JSON.stringify(json)).toBeGreaterThan(0);
    }
    const notJson = await call(path(u.userId), {
      method: "POST",
      tenant: slug,
      headers: { ...bearer(owner.tokens.accessToken), "content-type": "application/json" },
      body: "{not json",
    });
    expect(notJson.status).toBe(400);
    expect(await quotaOf(slug, u)).toMatchObject({ packs: 0 });
  });
});
