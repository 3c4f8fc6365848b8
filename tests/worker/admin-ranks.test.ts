import { beforeAll, describe, expect, it } from "vitest";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

type Who = { tenant: string; headers: Record<string, string> };
type Rank = "owner" | "admin" | "moderator" | "ops" | "member";
const RANK: Record<Rank, number> = { owner: 100, admin: 80, moderator: 50, ops: 60, member: 0 };
const ACTIONS = ["suspend", "resume", "force-logout", "roles", "delete"] as const;
type Action = (typeof ACTIONS)[number];
/** Which seeded or custom role holds the permission of each action (see migrations/tenant/0002). */
const PERMITTED: Record<Rank, Action[]> = {
  owner: [...ACTIONS],
  admin: [...ACTIONS],
  ops: [...ACTIONS],
  moderator: ["suspend", "resume"],
  member: [],
};

async function act(who: Who, action: Action, targetId: string, targetRoles: string[]): Promise<Response> {
  if (action === "delete") return call(`/v1/admin/users/${targetId}`, { method: "DELETE", ...who });
  if (action === "roles")
    return call(`/v1/admin/users/${targetId}/roles`, { method: "PUT", ...who, json: { roles: targetRoles } });
  return call(`/v1/admin/users/${targetId}/${action}`, { method: "POST", ...who });
}

describe("role ranks", () => {
  let slug: string;
  let owner: Who;
  const actors = {} as Record<Rank, Who>;

  /** A fresh user holding one role (the owner assigns it). */
  async function userWith(role: Rank): Promise<{ id: string; who: Who; roles: string[] }> {
    const u = await registerUser(slug);
    const roles = role === "member" ? ["member"] : [role, "member"];
    const res = await call(`/v1/admin/users/${u.userId}/roles`, { method: "PUT", ...owner, json: { roles } });
    expect(res.status, await res.clone().text()).toBe(200);
    // Permissions and ranks are read live on every request: the registration's token serves.
    return { id: u.userId, who: as(slug, u), roles };
  }

  beforeAll(async () => {
    const t = await tenantWithOwner();
    slug = t.tenant.slug;
    owner = as(slug, t.owner);
    const ops = await call("/v1/admin/roles", {
      method: "POST",
      ...owner,
      json: { name: "ops", rank: 60, permissions: ["users:*", "roles:assign"] },
    });
    expect(ops.status, await ops.clone().text()).toBe(201);
    expect((await ops.json<{ rank: number }>()).rank).toBe(60);
    for (const r of Object.keys(RANK) as Rank[]) actors[r] = (await userWith(r)).who;
  });

  it("every admin action against every rank pair: allowed only with the permission and a higher rank (owners may act on owners)", async () => {
    const ranks = Object.keys(RANK) as Rank[];
    for (const target of ranks) {
      const victims = await Promise.all(ranks.map(() => userWith(target)));
      for (const [i, actor] of ranks.entries()) {
        const victim = victims[i]!;
        for (const action of ACTIONS) {
          if (action === "resume") await act(owner, "suspend", victim.id, victim.roles);
          const res = await act(actors[actor], action, victim.id, victim.roles);
          const label = `${actor} → ${action} → ${target}`;
          if (!PERMITTED[actor].includes(action)) await expectProblem(res, 403, "forbidden");
          else if (!(RANK[actor] > RANK[target] || actor === "owner")) await expectProblem(res, 403, "rank_too_low");
          else expect(res.status, `${label}: ${await res.clone().text()}`).toBeLessThan(300);
          // Leave the victim active for the next action (the owner can always resume).
          if (action === "suspend" || action === "resume") await act(owner, "resume", victim.id, victim.roles);
        }
      }
    }
  });

  it("nobody grants, creates, edits or deletes a role at or above their own rank", async () => {
    const admin = actors.admin;
    const member = await userWith("member");
    await expectProblem(
      await call(`/v1/admin/users/${member.id}/roles`, {
        method: "PUT",
        ...admin,
        json: { roles: ["admin", "member"] },
      }),
      403,
      "rank_too_low",
    );
    const toOwner = await call(`/v1/admin/users/${member.id}/roles`, {
      method: "PUT",
      ...admin,
      json: { roles: ["owner", "member"] },
    });
    expect(toOwner.status).toBe(403);
    expect(
      (
        await call(`/v1/admin/users/${member.id}/roles`, {
          method: "PUT",
          ...admin,
          json: { roles: ["moderator", "member"] },
        })
      ).status,
    ).toBe(200);
    await expectProblem(
      await call("/v1/admin/roles", { method: "POST", ...admin, json: { name: "vice", rank: 90, permissions: [] } }),
      403,
      "rank_too_low",
    );
    await expectProblem(
      await call("/v1/admin/roles", { method: "POST", ...admin, json: { name: "peer", rank: 80, permissions: [] } }),
      403,
      "rank_too_low",
    );
    expect(
      (
        await call("/v1/admin/roles", {
          method: "POST",
          ...admin,
          json: { name: "helper", rank: 20, permissions: ["users:read"] },
        })
      ).status,
    ).toBe(201);
    const high = await (
      await call("/v1/admin/roles", {
        method: "POST",
        ...owner,
        json: { name: "deputy", rank: 90, permissions: ["users:read"] },
      })
    ).json<{ id: string }>();
    await expectProblem(
      await call(`/v1/admin/roles/${high.id}`, { method: "PATCH", ...admin, json: { description: "mine now" } }),
      403,
      "rank_too_low",
    );
    await expectProblem(await call(`/v1/admin/roles/${high.id}`, { method: "DELETE", ...admin }), 403, "rank_too_low");
    const low = await (
      await call("/v1/admin/roles", { method: "POST", ...admin, json: { name: "intern", rank: 5, permissions: [] } })
    ).json<{ id: string }>();
    await expectProblem(
      await call(`/v1/admin/roles/${low.id}`, { method: "PATCH", ...admin, json: { rank: 85 } }),
      403,
      "rank_too_low",
    );
    await expectProblem(
      await call("/v1/admin/roles/admin", { method: "PATCH", ...owner, json: { rank: 99 } }),
      409,
      "system_role",
    );
    await expectProblem(
      await call("/v1/admin/roles", { method: "POST", ...owner, json: { name: "god", rank: 100, permissions: [] } }),
      400,
      "validation_failed",
    );
    // One's own roles may be given up, not raised.
    const ops = await userWith("ops");
    await expectProblem(
      await call(`/v1/admin/users/${ops.id}/roles`, {
        method: "PUT",
        ...ops.who,
        json: { roles: ["ops", "deputy", "member"] },
      }),
      403,
      "rank_too_low",
    );
    expect(
      (await call(`/v1/admin/users/${ops.id}/roles`, { method: "PUT", ...ops.who, json: { roles: ["member"] } }))
        .status,
    ).toBe(200);
  });

  it("an API key acts with its creator's rank", async () => {
    const res = await call("/v1/admin/api-keys", {
      method: "POST",
      ...actors.admin,
      json: { name: "ops-bot", permissions: ["users:suspend", "users:read"] },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const key = { tenant: slug, headers: { authorization: `Bearer ${(await res.json<{ key: string }>()).key}` } };
    const peer = await userWith("admin");
    const below = await userWith("moderator");
    await expectProblem(await act(key, "suspend", peer.id, peer.roles), 403, "rank_too_low");
    expect((await act(key, "suspend", below.id, below.roles)).status).toBe(200);
  });

  it("the last active owner is never suspended, deleted or demoted, however requests race", async () => {
    const t = await tenantWithOwner();
    const o1 = as(t.tenant.slug, t.owner);
    const me = await (await call("/v1/me", o1)).json<{ id: string }>();
    await expectProblem(
      await call(`/v1/admin/users/${me.id}/roles`, { method: "PUT", ...o1, json: { roles: ["member"] } }),
      409,
      "last_owner",
    );
    await expectProblem(await call(`/v1/admin/users/${me.id}`, { method: "DELETE", ...o1 }), 409, "last_owner");
    // A second owner, then both demote each other at once: at least one owner stays.
    const u = await registerUser(t.tenant.slug);
    expect(
      (await call(`/v1/admin/users/${u.userId}/roles`, { method: "PUT", ...o1, json: { roles: ["owner"] } })).status,
    ).toBe(200);
    const o2 = as(t.tenant.slug, u);
    const [a, b] = await Promise.all([
      call(`/v1/admin/users/${u.userId}/roles`, { method: "PUT", ...o1, json: { roles: ["member"] } }),
      call(`/v1/admin/users/${me.id}/roles`, { method: "PUT", ...o2, json: { roles: ["member"] } }),
    ]);
    expect([a.status, b.status].filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    const list = await (
      await call("/v1/admin/users?limit=100", o1.headers.authorization && a.status === 200 ? o1 : o2)
    ).json<{ items: { roles: string[]; status: string }[] }>();
    expect(list.items.filter((x) => x.roles.includes("owner") && x.status === "active").length).toBeGreaterThanOrEqual(
      1,
    );
    // Suspending the other owner leaves this one the last active owner: suspending it is refused.
    const survivor =
      a.status === 200 ? { who: o1, id: me.id, other: u.userId } : { who: o2, id: u.userId, other: me.id };
    if (a.status !== 200 && b.status !== 200) {
      expect(
        (await call(`/v1/admin/users/${survivor.other}/suspend`, { method: "POST", ...survivor.who })).status,
      ).toBe(200);
    }
    await expectProblem(
      await call(`/v1/admin/users/${survivor.id}/roles`, {
        method: "PUT",
        ...survivor.who,
        json: { roles: ["member"] },
      }),
      409,
      "last_owner",
    );
  });
});
