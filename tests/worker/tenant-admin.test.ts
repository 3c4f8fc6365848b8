import { describe, expect, it } from "vitest";
import { bearer, login, registerUser, tenantWithOwner, type Tokens } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

describe("tenant administration and RBAC", () => {
  it("finds users by nickname (case-blind, LIKE characters literal) and shows it; the nickname is data, never markup", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    const o = bearer(owner.tokens.accessToken);
    const hostile = "<img src=x onerror=alert(1)> 100%_Ada";
    const u = await registerUser(t.slug);
    const other = await registerUser(t.slug);
    for (const [x, nickname] of [
      [u, hostile],
      [other, "100xxAda"],
    ] as const) {
      const res = await call("/v1/me", {
        method: "PATCH",
        tenant: t.slug,
        headers: bearer(x.tokens.accessToken),
        json: { nickname },
      });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    const search = async (q: string) =>
      (
        await (
          await call(`/v1/admin/users?q=${encodeURIComponent(q)}`, { tenant: t.slug, headers: o })
        ).json<{ items: { id: string; nickname: string | null }[] }>()
      ).items;
    expect((await search("100%_ada")).map((x) => [x.id, x.nickname])).toEqual([[u.userId, hostile]]);
    expect((await search("ONERROR")).map((x) => x.id)).toEqual([u.userId]);
    expect((await search("xxada")).map((x) => x.id)).toEqual([other.userId]);
    // The suspend answer carries it too.
    const suspended = await call(`/v1/admin/users/${u.userId}/suspend`, { method: "POST", tenant: t.slug, headers: o });
    expect((await suspended.json<{ nickname: string }>()).nickname).toBe(hostile);
  });

  it("an admin sees a user's live sessions (device, address) when outranking them; ending them empties the list", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    const o = bearer(owner.tokens.accessToken);
    const u = await registerUser(t.slug);
    const second = await login(
      t.slug,
      u.username,
      u.password,
      { "cf-connecting-ip": "10.7.7.7" },
      { id: "phone-1", name: "Phone" },
    );
    expect(second.status).toBe(200);
    const list = async (headers: Record<string, string>, id = u.userId) =>
      call(`/v1/admin/users/${id}/sessions`, { tenant: t.slug, headers });
    const res = await list(o);
    expect(res.status, await res.clone().text()).toBe(200);
    const { items } = await res.json<{
      items: { device: { id: string | null; name: string | null }; ip: string | null; current: boolean }[];
    }>();
    expect(items).toHaveLength(2);
    expect(items.find((s) => s.device.id === "phone-1")).toMatchObject({
      device: { name: "Phone" },
      ip: "10.7.7.7",
      current: false,
    });
    // A member may not look; an admin may not look at the owner; nobody sees another tenant's user.
    await expectProblem(await list(bearer(u.tokens.accessToken)), 403, "forbidden");
    const admin = await registerUser(t.slug);
    expect(
      (
        await call(`/v1/admin/users/${admin.userId}/roles`, {
          method: "PUT",
          tenant: t.slug,
          headers: o,
          json: { roles: ["admin"] },
        })
      ).status,
    ).toBe(200);
    const ownerId = (await (await call("/v1/me", { tenant: t.slug, headers: o })).json<{ id: string }>()).id;
    await expectProblem(await list(bearer(admin.tokens.accessToken), ownerId), 403, "rank_too_low");
    expect((await list(bearer(admin.tokens.accessToken))).status).toBe(200);
    await expectProblem(await list(o, "01hzzzzzzzzzzzzzzzzzzzzzzz"), 404, "user_not_found");
    expect(
      (await call(`/v1/admin/users/${u.userId}/force-logout`, { method: "POST", tenant: t.slug, headers: o })).status,
    ).toBe(200);
    expect((await (await list(o)).json<{ items: unknown[] }>()).items).toEqual([]);
  });

  it("the owner created with the tenant administers users; members get 403; other tenants' ids are 404", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    const o = bearer(owner.tokens.accessToken);
    const u = await registerUser(t.slug);
    await expectProblem(
      await call("/v1/admin/users", { tenant: t.slug, headers: bearer(u.tokens.accessToken) }),
      403,
      "forbidden",
    );
    const list = await (
      await call(`/v1/admin/users?q=${u.username.slice(0, 6)}`, { tenant: t.slug, headers: o })
    ).json<{ items: { id: string }[] }>();
    expect(list.items.map((x) => x.id)).toContain(u.userId);

    const other = await tenantWithOwner();
    const stranger = await registerUser(other.tenant.slug);
    await expectProblem(
      await call(`/v1/admin/users/${stranger.userId}/suspend`, { method: "POST", tenant: t.slug, headers: o }),
      404,
      "user_not_found",
    );
    // The owner's token does not work against the other tenant at all.
    await expectProblem(
      await call(`/v1/admin/users/${stranger.userId}/suspend`, {
        method: "POST",
        tenant: other.tenant.slug,
        headers: o,
      }),
      401,
      "invalid_token",
    );
  });

  it("paginates the user list with cursors", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    for (let i = 0; i < 4; i++) await registerUser(t.slug);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await (
        await call(`/v1/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
          tenant: t.slug,
          headers: bearer(owner.tokens.accessToken),
        })
      ).json();
      seen.push(...page.items.map((x) => x.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it("roles: custom role grants access; a demotion applies on the very next request", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    const o = bearer(owner.tokens.accessToken);
    const role = await call("/v1/admin/roles", {
      method: "POST",
      tenant: t.slug,
      headers: o,
      json: { name: "helpdesk", permissions: ["users:read"] },
    });
    expect(role.status).toBe(201);
    const { id: roleId } = await role.json<{ id: string }>();
    await expectProblem(
      await call("/v1/admin/roles", {
        method: "POST",
        tenant: t.slug,
        headers: o,
        json: { name: "helpdesk", permissions: [] },
      }),
      409,
      "role_exists",
    );
    await expectProblem(
      await call("/v1/admin/roles", {
        method: "POST",
        tenant: t.slug,
        headers: o,
        json: { name: "bad", permissions: ["not a permission"] },
      }),
      400,
      "validation_failed",
    );

    const u = await registerUser(t.slug);
    const h = bearer(u.tokens.accessToken);
    expect(
      (
        await call(`/v1/admin/users/${u.userId}/roles`, {
          method: "PUT",
          tenant: t.slug,
          headers: o,
          json: { roles: ["member", "helpdesk"] },
        })
      ).status,
    ).toBe(200);
    expect((await call("/v1/admin/users", { tenant: t.slug, headers: h })).status).toBe(200);
    await expectProblem(
      await call(`/v1/admin/users/${u.userId}/force-logout`, { method: "POST", tenant: t.slug, headers: h }),
      403,
      "forbidden",
    );

    // Demote by editing the role: same token, next request refused.
    expect(
      (
        await call(`/v1/admin/roles/${roleId}`, {
          method: "PATCH",
          tenant: t.slug,
          headers: o,
          json: { permissions: [] },
        })
      ).status,
    ).toBe(200);
    await expectProblem(await call("/v1/admin/users", { tenant: t.slug, headers: h }), 403, "forbidden");
    await expectProblem(
      await call("/v1/admin/roles/owner", { method: "DELETE", tenant: t.slug, headers: o }),
      409,
      "system_role",
    );
    expect((await call(`/v1/admin/roles/${roleId}`, { method: "DELETE", tenant: t.slug, headers: o })).status).toBe(
      204,
    );
  });

  it("no privilege escalation: an admin cannot make an owner, nor grant itself more", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    const o = bearer(owner.tokens.accessToken);
    const a = await registerUser(t.slug);
    expect(
      (
        await call(`/v1/admin/users/${a.userId}/roles`, {
          method: "PUT",
          tenant: t.slug,
          headers: o,
          json: { roles: ["admin"] },
        })
      ).status,
    ).toBe(200);
    const h = bearer(a.tokens.accessToken);
    await expectProblem(
      await call(`/v1/admin/users/${a.userId}/roles`, {
        method: "PUT",
        tenant: t.slug,
        headers: h,
        json: { roles: ["admin", "owner"] },
      }),
      403,
      "privilege_escalation",
    );
    await expectProblem(
      await call("/v1/admin/roles", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { name: "god", permissions: ["*"] },
      }),
      403,
      "privilege_escalation",
    );
    await expectProblem(
      await call("/v1/admin/api-keys", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { name: "k", permissions: ["signing-keys:*"] },
      }),
      403,
      "privilege_escalation",
    );
    // The last owner keeps the role.
    const ownerId = (await (await call("/v1/me", { tenant: t.slug, headers: o })).json<{ id: string }>()).id;
    await expectProblem(
      await call(`/v1/admin/users/${ownerId}/roles`, {
        method: "PUT",
        tenant: t.slug,
        headers: o,
        json: { roles: ["member"] },
      }),
      409,
      "last_owner",
    );
    await expectProblem(
      await call(`/v1/admin/users/${ownerId}`, { method: "DELETE", tenant: t.slug, headers: o }),
      409,
      "last_owner",
    );
  });

  it("API keys: shown once, scoped, last-used recorded, revocable at once", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    const o = bearer(owner.tokens.accessToken);
    const created = await call("/v1/admin/api-keys", {
      method: "POST",
      tenant: t.slug,
      headers: o,
      json: { name: "backend", permissions: ["users:read"] },
    });
    expect(created.status).toBe(201);
    const key = await created.json<{ id: string; key: string }>();
    expect(key.key).toMatch(/^ck_/);
    const k = bearer(key.key);
    expect((await call("/v1/admin/users", { tenant: t.slug, headers: k })).status).toBe(200);
    await expectProblem(await call("/v1/admin/roles", { tenant: t.slug, headers: k }), 403, "forbidden");
    await expectProblem(await call("/v1/me", { tenant: t.slug, headers: k }), 403, "user_required");
    const listed = await (await call("/v1/admin/api-keys", { tenant: t.slug, headers: o })).json<{
      items: { id: string; lastUsedAt: string | null; key?: string }[];
    }>();
    const row = listed.items.find((x) => x.id === key.id)!;
    expect(row.lastUsedAt).not.toBeNull();
    expect(row.key).toBeUndefined();
    await expectProblem(
      await call("/v1/admin/users", { tenant: t.slug, headers: bearer(key.key.slice(0, -2) + "xx") }),
      401,
      "invalid_api_key",
    );
    const other = await createTenant();
    await expectProblem(
      await call("/v1/tenant", { tenant: other.slug }).then(() =>
        call("/v1/admin/users", { tenant: other.slug, headers: k }),
      ),
      401,
      "invalid_api_key",
    );
    expect((await call(`/v1/admin/api-keys/${key.id}`, { method: "DELETE", tenant: t.slug, headers: o })).status).toBe(
      204,
    );
    await expectProblem(await call("/v1/admin/users", { tenant: t.slug, headers: k }), 401, "invalid_api_key");
  });

  it("delete anonymises the user and ends its sessions; force-logout ends sessions", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    const o = bearer(owner.tokens.accessToken);
    const u = await registerUser(t.slug);
    const fl = await call(`/v1/admin/users/${u.userId}/force-logout`, { method: "POST", tenant: t.slug, headers: o });
    expect(await fl.json()).toEqual({ revoked: 1 });
    await expectProblem(
      await call("/v1/me", { tenant: t.slug, headers: bearer(u.tokens.accessToken) }),
      401,
      "session_revoked",
    );
    const again = await (await login(t.slug, u.username, u.password)).json<Tokens>();
    expect((await call(`/v1/admin/users/${u.userId}`, { method: "DELETE", tenant: t.slug, headers: o })).status).toBe(
      204,
    );
    await expectProblem(
      await call("/v1/me", { tenant: t.slug, headers: bearer(again.accessToken) }),
      401,
      "account_inactive",
    );
    await expectProblem(await login(t.slug, u.username, u.password), 401, "invalid_credentials");
    const list = await (await call(`/v1/admin/users?q=${u.username}`, { tenant: t.slug, headers: o })).json<{
      items: unknown[];
    }>();
    expect(list.items).toHaveLength(0);
    // The identifiers are free again.
    expect(
      (
        await call("/v1/auth/register", {
          method: "POST",
          tenant: t.slug,
          json: { username: u.username, password: u.password },
        })
      ).status,
    ).toBe(201);
  });
});
