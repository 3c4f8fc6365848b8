import { beforeAll, describe, expect, it } from "vitest";
import { as, bearer, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

/**
 * The API-key lifecycle matrix: a key is made by an admin, then its creator is demoted, re-roled,
 * suspended or deleted, and every admin operation is tried with the key. A key acts with what its
 * creator holds now, never more than at creation (docs/identity.md, "API keys").
 */
type Who = { tenant: string; headers: Record<string, string> };
const BROAD = ["users:*", "roles:*", "api-keys:*"];

describe("API keys answer to their creator", () => {
  let slug: string;
  let owner: Who;
  let ownerId: string;

  beforeAll(async () => {
    const t = await tenantWithOwner();
    slug = t.tenant.slug;
    owner = as(slug, t.owner);
    ownerId = (await (await call("/v1/me", owner)).json<{ id: string }>()).id;
    const ops = await call("/v1/admin/roles", {
      method: "POST",
      ...owner,
      json: { name: "readers", rank: 30, permissions: ["users:read"] },
    });
    expect(ops.status, await ops.clone().text()).toBe(201);
  });

  async function setRoles(userId: string, roles: string[]): Promise<void> {
    const res = await call(`/v1/admin/users/${userId}/roles`, { method: "PUT", ...owner, json: { roles } });
    expect(res.status, await res.clone().text()).toBe(200);
  }

  /** A fresh admin and a key it made with `permissions`. */
  async function adminWithKey(permissions = BROAD): Promise<{ adminId: string; admin: Who; keyId: string; key: Who }> {
    const u = await registerUser(slug);
    await setRoles(u.userId, ["admin", "member"]);
    const admin = as(slug, u);
    const res = await call("/v1/admin/api-keys", { method: "POST", ...admin, json: { name: "bot", permissions } });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = await res.json<{ id: string; key: string; createdBy: string; rank: number }>();
    expect(created).toMatchObject({ createdBy: u.userId, rank: 80 });
    return { adminId: u.userId, admin, keyId: created.id, key: { tenant: slug, headers: bearer(created.key) } };
  }

  /** Every admin operation of the probe, with the key: answers in order. */
  async function operations(key: Who, creatorId: string): Promise<Response[]> {
    const victim = await registerUser(slug);
    return [
      await call("/v1/admin/users", key),
      await call("/v1/admin/roles", {
        method: "POST",
        ...key,
        json: { name: `r${crypto.randomUUID().slice(0, 6)}`, rank: 79, permissions: ["users:*"] },
      }),
      await call(`/v1/admin/users/${creatorId}/roles`, { method: "PUT", ...key, json: { roles: ["admin", "member"] } }),
      await call("/v1/admin/api-keys", {
        method: "POST",
        ...key,
        json: { name: "child", permissions: ["users:read"] },
      }),
      await call(`/v1/admin/users/${victim.userId}/suspend`, { method: "POST", ...key }),
    ];
  }

  it("with its creator unchanged, the key does what the creator may", async () => {
    const { key, adminId } = await adminWithKey();
    const [list, role, giveBack, child, suspend] = await operations(key, adminId);
    expect(list!.status).toBe(200);
    expect(role!.status, await role!.clone().text()).toBe(201);
    // The key acts with its creator's rank, which does not outrank the creator itself.
    await expectProblem(giveBack!, 403, "rank_too_low");
    expect(child!.status).toBe(201);
    expect(suspend!.status).toBeLessThan(300);
  });

  for (const [change, roles] of [
    ["demoted to member", ["member"]],
    ["re-roled to a reader", ["readers", "member"]],
  ] as const) {
    it(`with its creator ${change}, the key loses what the creator lost (403)`, async () => {
      const { key, adminId } = await adminWithKey();
      await setRoles(adminId, [...roles]);
      const [list, role, giveBack, child, suspend] = await operations(key, adminId);
      if (change === "re-roled to a reader") expect(list!.status).toBe(200);
      else await expectProblem(list!, 403, "forbidden");
      for (const res of [role!, giveBack!, child!, suspend!]) await expectProblem(res, 403, "forbidden");
      // Restored, the key works again: it follows the creator, it was not revoked.
      await setRoles(adminId, ["admin", "member"]);
      expect((await call("/v1/admin/users", key)).status).toBe(200);
    });
  }

  it("with its creator suspended or deleted, the key and the keys it minted are refused (401 api_key_revoked)", async () => {
    for (const change of ["suspend", "delete"] as const) {
      const { key, adminId } = await adminWithKey();
      const childRes = await call("/v1/admin/api-keys", {
        method: "POST",
        ...key,
        json: { name: "child", permissions: ["users:read"] },
      });
      expect(childRes.status).toBe(201);
      const child = { tenant: slug, headers: bearer((await childRes.json<{ key: string }>()).key) };
      expect((await call("/v1/admin/users", child)).status).toBe(200);
      const res =
        change === "suspend"
          ? await call(`/v1/admin/users/${adminId}/suspend`, { method: "POST", ...owner })
          : await call(`/v1/admin/users/${adminId}`, { method: "DELETE", ...owner });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      for (const res of await operations(key, adminId)) await expectProblem(res, 401, "api_key_revoked");
      await expectProblem(await call("/v1/admin/users", child), 401, "api_key_revoked");
      if (change === "suspend") {
        // The key cannot resume its own creator, and comes back only when the owner does.
        await expectProblem(
          await call(`/v1/admin/users/${adminId}/resume`, { method: "POST", ...key }),
          401,
          "api_key_revoked",
        );
        expect((await call(`/v1/admin/users/${adminId}/resume`, { method: "POST", ...owner })).status).toBeLessThan(
          300,
        );
        expect((await call("/v1/admin/users", key)).status).toBe(200);
      }
    }
  });

  it("a key minted by a key never outlives or outranks its parent", async () => {
    const { key } = await adminWithKey();
    const res = await call("/v1/admin/api-keys", {
      method: "POST",
      ...key,
      json: { name: "child", permissions: ["users:read", "roles:write"] },
    });
    const child = await res.json<{ id: string; key: string; createdBy: string }>();
    expect(child.createdBy).toMatch(/^key:/);
    const childWho = { tenant: slug, headers: bearer(child.key) };
    await expectProblem(
      await call("/v1/admin/api-keys", {
        method: "POST",
        ...childWho,
        json: { name: "grand", permissions: ["users:*"] },
      }),
      403,
      "forbidden",
    );
    expect((await call("/v1/admin/users", childWho)).status).toBe(200);
    // Revoking the parent takes the child with it.
    expect((await call(`/v1/admin/api-keys/${child.createdBy.slice(4)}`, { method: "DELETE", ...owner })).status).toBe(
      204,
    );
    await expectProblem(await call("/v1/admin/users", childWho), 401, "api_key_revoked");
  });

  it("a key may revoke its sibling (same creator) but not a peer admin's key", async () => {
    const mine = await adminWithKey();
    const sibling = await call("/v1/admin/api-keys", {
      method: "POST",
      ...mine.admin,
      json: { name: "sib", permissions: ["users:read"] },
    });
    const siblingId = (await sibling.json<{ id: string }>()).id;
    const peer = await adminWithKey();
    await expectProblem(
      await call(`/v1/admin/api-keys/${peer.keyId}`, { method: "DELETE", ...mine.key }),
      403,
      "rank_too_low",
    );
    expect((await call(`/v1/admin/api-keys/${siblingId}`, { method: "DELETE", ...mine.key })).status).toBe(204);
    expect((await call(`/v1/admin/api-keys/${mine.keyId}`, { method: "DELETE", ...mine.key })).status).toBe(204);
    await expectProblem(await call("/v1/admin/users", mine.key), 401, "invalid_api_key");
  });

  it("lists each key's creator; revoking a key needs a rank above its creator's", async () => {
    const ownerKey = await call("/v1/admin/api-keys", {
      method: "POST",
      ...owner,
      json: { name: "root", permissions: ["*"] },
    });
    const ownerKeyId = (await ownerKey.json<{ id: string }>()).id;
    const { admin, adminId, keyId } = await adminWithKey();
    const listed = await (await call("/v1/admin/api-keys?limit=100", owner)).json<{
      items: { id: string; createdBy: string }[];
    }>();
    expect(listed.items.find((k) => k.id === ownerKeyId)?.createdBy).toBe(ownerId);
    expect(listed.items.find((k) => k.id === keyId)?.createdBy).toBe(adminId);
    // The admin may not suspend the owner, so it may not revoke the owner's key either.
    await expectProblem(
      await call(`/v1/admin/users/${ownerId}/suspend`, { method: "POST", ...admin }),
      403,
      "rank_too_low",
    );
    await expectProblem(
      await call(`/v1/admin/api-keys/${ownerKeyId}`, { method: "DELETE", ...admin }),
      403,
      "rank_too_low",
    );
    // A peer admin may not revoke this admin's key; the creator and the owner may.
    const peer = await adminWithKey();
    await expectProblem(
      await call(`/v1/admin/api-keys/${keyId}`, { method: "DELETE", ...peer.admin }),
      403,
      "rank_too_low",
    );
    expect((await call(`/v1/admin/api-keys/${keyId}`, { method: "DELETE", ...admin })).status).toBe(204);
    expect((await call(`/v1/admin/api-keys/${peer.keyId}`, { method: "DELETE", ...owner })).status).toBe(204);
    expect((await call(`/v1/admin/api-keys/${ownerKeyId}`, { method: "DELETE", ...owner })).status).toBe(204);
    await expectProblem(
      await call(`/v1/admin/api-keys/${ownerKeyId}`, { method: "DELETE", ...owner }),
      404,
      "api_key_not_found",
    );
  });
});
