import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { doName } from "../../src/durable/names";
import { bearer, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

type U = Awaited<ReturnType<typeof registerUser>>;
const as = (t: string, u: U) => ({ tenant: t, headers: bearer(u.tokens.accessToken) });
const friendIds = async (t: string, u: U) =>
  (await (await call("/v1/friends", as(t, u))).json<{ items: { user: { id: string } }[] }>()).items.map(
    (f) => f.user.id,
  );
const pending = async (t: string, u: U, direction: string) =>
  (
    await (
      await call(`/v1/friends/requests?direction=${direction}`, as(t, u))
    ).json<{ items: { id: string; user: { id: string } }[] }>()
  ).items;
const request = (t: string, from: U, to: U, message = "hi") =>
  call("/v1/friends/requests", { method: "POST", ...as(t, from), json: { toUserId: to.userId, message } });

async function pair() {
  const t = await createTenant();
  return { t: t.slug, tenantId: t.id, a: await registerUser(t.slug), b: await registerUser(t.slug) };
}

describe("friend requests", () => {
  it("request, list both directions, accept: both sides are friends; retries are idempotent", async () => {
    const { t, a, b } = await pair();
    const sent = await request(t, a, b, "let's chat");
    expect(sent.status).toBe(201);
    const { id, status } = await sent.json<{ id: string; status: string }>();
    expect(status).toBe("pending");
    expect((await (await request(t, a, b)).json<{ id: string }>()).id).toBe(id); // retry: same request
    const incoming = await pending(t, b, "incoming");
    expect(incoming.map((r) => [r.id, r.user.id])).toEqual([[id, a.userId]]);
    expect((await pending(t, a, "outgoing")).map((r) => r.id)).toEqual([id]);
    expect((await call(`/v1/friends/requests/${id}/accept`, { method: "POST", ...as(t, b) })).status).toBe(204);
    expect(await friendIds(t, a)).toEqual([b.userId]);
    expect(await friendIds(t, b)).toEqual([a.userId]);
    expect(await pending(t, a, "outgoing")).toEqual([]);
    await expectProblem(await request(t, a, b), 409, "already_friends");
  });

  it("ten concurrent accepts of one request make one friendship", async () => {
    const { t, a, b } = await pair();
    const { id } = await (await request(t, a, b)).json<{ id: string }>();
    const res = await Promise.all(
      Array.from({ length: 10 }, () => call(`/v1/friends/requests/${id}/accept`, { method: "POST", ...as(t, b) })),
    );
    expect(res.map((r) => r.status)).toEqual(Array(10).fill(204));
    expect(await friendIds(t, a)).toEqual([b.userId]);
    expect(await friendIds(t, b)).toEqual([a.userId]);
  });

  it("A→B and B→A at the same moment become one friendship with nothing pending", async () => {
    const { t, a, b } = await pair();
    await Promise.all([request(t, a, b), request(t, b, a)]);
    expect(await friendIds(t, a)).toEqual([b.userId]);
    expect(await friendIds(t, b)).toEqual([a.userId]);
    for (const u of [a, b]) for (const d of ["incoming", "outgoing"]) expect(await pending(t, u, d)).toEqual([]);
  });

  it("reject and cancel close the request on both sides; others cannot act on it", async () => {
    const { t, a, b } = await pair();
    const c = await registerUser(t);
    const r1 = (await (await request(t, a, b)).json<{ id: string }>()).id;
    await expectProblem(
      await call(`/v1/friends/requests/${r1}/accept`, { method: "POST", ...as(t, c) }),
      404,
      "friend_request_not_found",
    );
    await expectProblem(
      await call(`/v1/friends/requests/${r1}/accept`, { method: "POST", ...as(t, a) }),
      404,
      "friend_request_not_found",
    );
    expect((await call(`/v1/friends/requests/${r1}/reject`, { method: "POST", ...as(t, b) })).status).toBe(204);
    expect(await pending(t, a, "outgoing")).toEqual([]);
    const r2 = (await (await request(t, a, b)).json<{ id: string }>()).id;
    expect((await call(`/v1/friends/requests/${r2}`, { method: "DELETE", ...as(t, a) })).status).toBe(204);
    expect(await pending(t, b, "incoming")).toEqual([]);
    await expectProblem(
      await call(`/v1/friends/requests/${r2}/accept`, { method: "POST", ...as(t, b) }),
      409,
      "friend_request_closed",
    );
  });

  it("follows the recipient's privacy: nobody refuses, anyone accepts at once; self, unknown and other tenants' users refused", async () => {
    const { t, a, b } = await pair();
    await call("/v1/me/settings", { method: "PUT", ...as(t, b), json: { privacy: { friendRequests: "nobody" } } });
    await expectProblem(await request(t, a, b), 403, "friend_requests_closed");
    await call("/v1/me/settings", { method: "PUT", ...as(t, b), json: { privacy: { friendRequests: "anyone" } } });
    expect(await (await request(t, a, b)).json()).toMatchObject({ status: "accepted" });
    expect(await friendIds(t, b)).toEqual([a.userId]);
    await expectProblem(
      await call("/v1/friends/requests", { method: "POST", ...as(t, a), json: { toUserId: a.userId } }),
      400,
      "cannot_befriend_self",
    );
    const other = await createTenant();
    const stranger = await registerUser(other.slug);
    await expectProblem(
      await call("/v1/friends/requests", { method: "POST", ...as(t, a), json: { toUserId: stranger.userId } }),
      404,
      "user_not_found",
    );
  });
});

describe("friends, groups and blocks", () => {
  it("removing a friend removes both sides; remarks and groups", async () => {
    const { t, a, b } = await pair();
    await call("/v1/me/settings", { method: "PUT", ...as(t, b), json: { privacy: { friendRequests: "anyone" } } });
    await request(t, a, b);
    const g = await (await call("/v1/friends/groups", { method: "POST", ...as(t, a), json: { name: "Work" } })).json<{
      id: string;
    }>();
    const p = await call(`/v1/friends/${b.userId}`, {
      method: "PATCH",
      ...as(t, a),
      json: { remark: "Bobby", groupId: g.id },
    });
    expect(await p.json()).toMatchObject({ remark: "Bobby", groupId: g.id, user: { id: b.userId } });
    expect(
      (await (await call(`/v1/friends?groupId=${g.id}`, as(t, a))).json<{ items: unknown[] }>()).items,
    ).toHaveLength(1);
    await expectProblem(
      await call(`/v1/friends/${b.userId}`, { method: "PATCH", ...as(t, a), json: { groupId: "nope" } }),
      404,
      "friend_group_not_found",
    );
    expect((await call(`/v1/friends/groups/${g.id}`, { method: "DELETE", ...as(t, a) })).status).toBe(204);
    expect(await (await call("/v1/friends", as(t, a))).json()).toMatchObject({ items: [{ groupId: null }] });
    expect((await call(`/v1/friends/${b.userId}`, { method: "DELETE", ...as(t, a) })).status).toBe(204);
    expect(await friendIds(t, a)).toEqual([]);
    expect(await friendIds(t, b)).toEqual([]);
    await expectProblem(
      await call(`/v1/friends/${b.userId}`, { method: "DELETE", ...as(t, a) }),
      404,
      "friend_not_found",
    );
  });

  it("blocking ends the friendship and pending requests, hides the profile and search, and stops requests", async () => {
    const { t, a, b } = await pair();
    const c = await registerUser(t);
    await call("/v1/me/settings", { method: "PUT", ...as(t, b), json: { privacy: { friendRequests: "anyone" } } });
    await request(t, a, b);
    await request(t, c, a); // pending c → a
    expect((await call(`/v1/blocks/${b.userId}`, { method: "PUT", ...as(t, a) })).status).toBe(204);
    expect((await call(`/v1/blocks/${b.userId}`, { method: "PUT", ...as(t, a) })).status).toBe(204); // idempotent
    expect((await call(`/v1/blocks/${c.userId}`, { method: "PUT", ...as(t, a) })).status).toBe(204);
    expect(await friendIds(t, a)).toEqual([]);
    expect(await friendIds(t, b)).toEqual([]);
    expect(await pending(t, c, "outgoing")).toEqual([]);
    await expectProblem(await request(t, b, a), 404, "user_not_found");
    await expectProblem(await call(`/v1/users/${a.userId}`, as(t, b)), 404, "user_not_found");
    const search = await (await call(`/v1/users?q=${a.username}`, as(t, b))).json<{ items: unknown[] }>();
    expect(search.items).toEqual([]);
    await expectProblem(
      await call(`/v1/users/${a.userId}/follow`, { method: "PUT", ...as(t, b) }),
      404,
      "user_not_found",
    );
    const list = await (await call("/v1/blocks", as(t, a))).json<{ items: { user: { id: string } }[] }>();
    expect(list.items.map((x) => x.user.id).sort()).toEqual([b.userId, c.userId].sort());
    await expectProblem(await request(t, a, b), 403, "user_blocked");
    expect((await call(`/v1/blocks/${b.userId}`, { method: "DELETE", ...as(t, a) })).status).toBe(204);
    expect((await call(`/v1/users/${a.userId}`, as(t, b))).status).toBe(200);
    expect((await request(t, b, a)).status).toBe(201);
  });
});

describe("crash between the two hubs' writes", () => {
  it("converges: an undelivered request in A's outbox reaches B when A's alarm runs", async () => {
    const { t, tenantId, a, b } = await pair();
    const hubA = env.USER_HUB.get(env.USER_HUB.idFromName(doName(tenantId, a.userId)));
    const requestId = "01crashcrashcrashcrashcras";
    // A wrote its side and the message for B, then "crashed" before delivering it.
    await runInDurableObject(hubA, (_obj, state) => {
      const now = Date.now();
      state.storage.sql.exec(
        "INSERT INTO meta (key, value) VALUES ('tenantId', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        tenantId,
      );
      state.storage.sql.exec(
        "INSERT INTO friend_requests (id, direction, peer_id, message, created_at, expires_at, status) VALUES (?, 'out', ?, 'hi', ?, ?, 'pending')",
        requestId,
        b.userId,
        now,
        now + 86_400_000,
      );
      const msg = {
        op: "request",
        requestId,
        message: "hi",
        createdAt: now,
        expiresAt: now + 86_400_000,
        autoAccept: false,
        maxFriends: 5000,
        maxPending: 200,
      };
      state.storage.sql.exec(
        "INSERT INTO peer_outbox (peer_id, message, created_at) VALUES (?, ?, ?)",
        b.userId,
        JSON.stringify(msg),
        now,
      );
    });
    expect(await pending(t, b, "incoming")).toEqual([]);
    // A retry alarm an hour out; runDurableObjectAlarm fires it now.
    await runInDurableObject(hubA, (_obj, state) => state.storage.setAlarm(Date.now() + 3_600_000));
    expect(await runDurableObjectAlarm(hubA)).toBe(true);
    expect((await pending(t, b, "incoming")).map((r) => r.id)).toEqual([requestId]);
    // And the accept converges back to A the same way (delivered inline here).
    expect((await call(`/v1/friends/requests/${requestId}/accept`, { method: "POST", ...as(t, b) })).status).toBe(204);
    expect(await friendIds(t, a)).toEqual([b.userId]);
    await runInDurableObject(hubA, (_obj, state) =>
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM peer_outbox").one().n).toBe(0),
    );
  });
});
