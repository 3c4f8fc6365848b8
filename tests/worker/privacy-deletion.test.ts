import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { erasureSweep } from "../../src/workers/privacy/sweep";
import { as, befriend, bearer, login, registerUser, tenantWithOwner, type Tokens } from "./auth-helpers";
import { call, expectProblem, tenantDbOf, tenantScopeOf } from "./helpers";
import { comment } from "./comment-helpers";
import { create, upload, type Post } from "./post-helpers";
import { conversationStub } from "../../src/durable/protocol/stubs";

type User = Awaited<ReturnType<typeof registerUser>>;
const HOUR = 3_600_000;

const deleteMe = (slug: string, u: { tokens: Tokens }, json: unknown) =>
  call("/v1/me", { method: "DELETE", ...as(slug, u), json });
const sweep = async (slug: string, at: number) => erasureSweep(await tenantScopeOf(slug), at);

async function group(slug: string, owner: User, members: User[]): Promise<string> {
  const res = await call("/v1/conversations", {
    method: "POST",
    ...as(slug, owner),
    json: { type: "group", name: "g", memberIds: members.map((m) => m.userId) },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

const send = async (slug: string, u: User, id: string, text: string) => {
  const res = await call(`/v1/conversations/${id}/messages`, {
    method: "POST",
    ...as(slug, u),
    json: { clientId: crypto.randomUUID(), kind: "text", body: { text } },
  });
  expect(res.status, await res.clone().text()).toBe(201);
};

interface Msg {
  seq: number;
  senderId: string;
  body: unknown;
  senderDeleted?: true;
}
const history = async (slug: string, u: User, id: string) =>
  (await (await call(`/v1/conversations/${id}/messages?limit=100`, as(slug, u))).json<{ items: Msg[] }>()).items;

describe("DELETE /v1/me", () => {
  it("ends every session at once; sign-in answers deletion_pending during the grace period, and cancelDeletion keeps the account", async () => {
    const { tenant } = await tenantWithOwner();
    const slug = tenant.slug;
    const u = await registerUser(slug);
    await expectProblem(await deleteMe(slug, u, { password: "Wrong-password-123" }), 401, "invalid_credentials");
    const res = await deleteMe(slug, u, { password: u.password });
    expect(res.status, await res.clone().text()).toBe(202);
    const { deletionScheduledAt } = await res.json<{ deletionScheduledAt: string }>();
    const due = Date.parse(deletionScheduledAt);
    expect(due - Date.now()).toBeGreaterThan(71 * HOUR);
    expect(due - Date.now()).toBeLessThanOrEqual(72 * HOUR);
    await expectProblem(await call("/v1/me", as(slug, u)), 401, "session_revoked");
    // Asking again with the ended session: 401, and the due time is the first request's.
    await expectProblem(await deleteMe(slug, u, { password: u.password }), 401, "session_revoked");
    await expectProblem(
      await call("/v1/auth/refresh", { method: "POST", tenant: slug, json: { refreshToken: u.tokens.refreshToken } }),
      401,
      "invalid_refresh_token",
    );
    // The right password during the grace period: 409, with nothing changed; a wrong one: 401 as ever.
    await expectProblem(await login(slug, u.username, u.password), 409, "deletion_pending");
    await expectProblem(await login(slug, u.username, "Wrong-password-123"), 401, "invalid_credentials");
    // The sweep before the due time erases nothing.
    await sweep(slug, Date.now());
    const kept = await call("/v1/auth/login", {
      method: "POST",
      tenant: slug,
      json: { identifier: u.username, password: u.password, cancelDeletion: true },
    });
    expect(kept.status, await kept.clone().text()).toBe(200);
    const tokens = await kept.json<Tokens>();
    expect((await call("/v1/me", { tenant: slug, headers: bearer(tokens.accessToken) })).status).toBe(200);
    // Cancelled: a later sweep past the old due time erases nothing, and sign-in is plain again.
    await sweep(slug, due + 1000);
    expect((await login(slug, u.username, u.password)).status).toBe(200);
  });

  it("with MFA on needs a code; the last owner cannot delete the account", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const { mfaUser } = await import("./mfa-helpers");
    const { t, u: m, secret: secretOf } = await mfaUser();
    await expectProblem(await deleteMe(t.slug, m, { password: m.password }), 400, "mfa_code_required");
    await expectProblem(
      await deleteMe(t.slug, m, { password: m.password, code: "000000" }),
      401,
      "invalid_credentials",
    );
    await expectProblem(await deleteMe(tenant.slug, owner, { password: owner.password }), 409, "last_owner");
    expect((await call("/v1/me", as(tenant.slug, owner))).status).toBe(200);
    const { code } = await import("./mfa-helpers");
    const ok = await deleteMe(t.slug, m, { password: m.password, code: await code(secretOf) });
    expect(ok.status, await ok.clone().text()).toBe(202);
  });

  it("two owners cannot both leave: one whose deletion is pending does not count", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const slug = tenant.slug;
    const second = await registerUser(slug);
    const roles = await call(`/v1/admin/users/${second.userId}/roles`, {
      method: "PUT",
      ...as(slug, owner),
      json: { roles: ["owner"] },
    });
    expect(roles.status).toBe(200);
    const secondTokens = await (await login(slug, second.username, second.password)).json<Tokens>();
    expect((await deleteMe(slug, { tokens: secondTokens }, { password: second.password })).status).toBe(202);
    await expectProblem(await deleteMe(slug, owner, { password: owner.password }), 409, "last_owner");
  });

  it("a sign-in checked before the deletion request opens no session after it", async () => {
    const { tenant } = await tenantWithOwner({ privacy: { deletionGraceHours: 1 } });
    const slug = tenant.slug;
    const u = await registerUser(slug);
    const [del, ...logins] = await Promise.all([
      deleteMe(slug, u, { password: u.password }),
      ...Array.from({ length: 4 }, () => login(slug, u.username, u.password)),
    ]);
    expect(del.status).toBe(202);
    // Each sign-in either lost the race (409, or refused by the hub) or won it: then its session
    // was opened before the request, and the request ended it.
    for (const r of logins) {
      if (r.status !== 200) {
        expect([401, 409]).toContain(r.status);
        continue;
      }
      const t = await r.json<Tokens>();
      expect((await call("/v1/me", { tenant: slug, headers: bearer(t.accessToken) })).status).toBe(401);
    }
  });

  it("rejects malformed, oversized and foreign requests", async () => {
    const { tenant } = await tenantWithOwner();
    const other = await tenantWithOwner();
    const u = await registerUser(tenant.slug);
    await expectProblem(await deleteMe(tenant.slug, u, { password: u.password, extra: 1 }), 400, "validation_failed");
    await expectProblem(await deleteMe(tenant.slug, u, { password: 42 }), 400, "validation_failed");
    await expectProblem(
      await deleteMe(tenant.slug, u, { password: u.password, code: "x".repeat(5000) }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/me", { method: "DELETE", tenant: tenant.slug, json: {} }),
      401,
      "unauthenticated",
    );
    // A token of tenant A at tenant B.
    const foreign = await call("/v1/me", {
      method: "DELETE",
      tenant: other.tenant.slug,
      headers: bearer(u.tokens.accessToken),
      json: { password: u.password },
    });
    expect(foreign.status).toBe(401);
    expect((await call("/v1/me", as(tenant.slug, u))).status).toBe(200);
  });
});

describe("erasure", () => {
  it("erases across hubs, conversations, the tenant DB and R2, and keeps others' history gap-free", async () => {
    const { tenant, owner } = await tenantWithOwner({ privacy: { deletionGraceHours: 1 } });
    const slug = tenant.slug;
    const [u, friend, follower, member] = await Promise.all([
      registerUser(slug),
      registerUser(slug),
      registerUser(slug),
      registerUser(slug),
    ]);
    await befriend(slug, u, friend);
    expect((await call(`/v1/users/${u.userId}/follow`, { method: "PUT", ...as(slug, follower) })).status).toBe(200);
    expect((await call(`/v1/users/${member.userId}/follow`, { method: "PUT", ...as(slug, u) })).status).toBe(200);
    // A pending request to another user, and a block of one.
    expect(
      (await call("/v1/friends/requests", { method: "POST", ...as(slug, u), json: { toUserId: member.userId } }))
        .status,
    ).toBe(201);
    expect((await call(`/v1/blocks/${follower.userId}`, { method: "PUT", ...as(slug, u) })).status).toBe(204);
    expect(await (await call("/v1/friends/requests?direction=incoming", as(slug, member))).text()).toContain(u.userId);
    expect(await (await call("/v1/friends", as(slug, friend))).text()).toContain(u.userId);
    const gid = await group(slug, u, [friend, member]);
    await send(slug, u, gid, "my secret plan");
    await send(slug, friend, gid, "the friend's reply");
    await send(slug, u, gid, "second secret");
    const fileId = await upload(slug, u);
    const { db, id: tenantId } = await tenantDbOf(slug);
    const [file] = await db.all<{ r2_key: string }>(sql`SELECT r2_key FROM files WHERE id = ${fileId}`);
    expect(await env.FILES.head(file!.r2_key)).not.toBeNull();

    expect((await deleteMe(slug, u, { password: u.password })).status).toBe(202);
    const outcome = await sweep(slug, Date.now() + 2 * HOUR);
    expect(outcome).toMatchObject({ usersErased: 1 });

    // Not reachable: profile, sign-in, search, friends, followers, requests, blocks.
    await expectProblem(await call(`/v1/users/${u.userId}`, as(slug, friend)), 404, "user_not_found");
    await expectProblem(await login(slug, u.username, u.password), 401, "invalid_credentials");
    const friends = await (await call("/v1/friends", as(slug, friend))).text();
    expect(friends).not.toContain(u.userId);
    const incoming = await (await call("/v1/friends/requests?direction=incoming", as(slug, member))).text();
    expect(incoming).not.toContain(u.userId);
    const following = await (await call(`/v1/users/${follower.userId}/following`, as(slug, follower))).json<{
      items: { id?: string; userId?: string }[];
    }>();
    expect(JSON.stringify(following.items)).not.toContain(u.userId);
    // The blocked user may now befriend nobody by that id, and is not blocked by it any more.
    const rows = await db.all<{ n: number }>(sql`SELECT
      (SELECT count(*) FROM follows WHERE follower_id = ${u.userId} OR followee_id = ${u.userId}) +
      (SELECT count(*) FROM blocks WHERE blocker_id = ${u.userId} OR blocked_id = ${u.userId}) +
      (SELECT count(*) FROM user_search WHERE user_id = ${u.userId}) +
      (SELECT count(*) FROM user_roles WHERE user_id = ${u.userId}) +
      (SELECT count(*) FROM conversation_members WHERE user_id = ${u.userId}) +
      (SELECT count(*) FROM archived_messages WHERE sender_id = ${u.userId} AND text IS NOT NULL) AS n`);
    expect(rows[0]!.n).toBe(0);
    const [row] = await db.all<Record<string, unknown>>(
      sql`SELECT email, username, status, erased_at FROM users WHERE id = ${u.userId}`,
    );
    expect(row).toMatchObject({ email: null, username: null, status: "deleted" });
    expect(row!.erased_at).not.toBeNull();
    // The file is gone from R2 and from the API.
    expect(await env.FILES.head(file!.r2_key)).toBeNull();
    // The group: the user left, the bodies are gone, the seqs are untouched and gap-free.
    const msgs = await history(slug, friend, gid);
    expect(msgs.map((m) => m.seq)).toEqual(msgs.map((_, i) => i + 1));
    const mine = msgs.filter((m) => m.senderId === u.userId && m.senderDeleted);
    expect(mine).toHaveLength(2);
    expect(mine.every((m) => m.body === null)).toBe(true);
    expect(JSON.stringify(msgs)).not.toContain("secret");
    expect(msgs.find((m) => m.senderId === friend.userId && !("senderDeleted" in m))?.body).toEqual({
      text: "the friend's reply",
    });
    // The username is free again; the id is never reused.
    const again = await registerUser(slug, { username: u.username });
    expect(again.userId).not.toBe(u.userId);
    // The erasure is done: a later sweep has nothing to do.
    expect(await sweep(slug, Date.now() + 3 * HOUR)).toEqual({});
    expect(tenantId).toBeTruthy();
    expect(owner).toBeTruthy();
  });

  it("an admin's delete erases at once; a lower rank cannot delete a higher one", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const slug = tenant.slug;
    const [u, mod] = await Promise.all([registerUser(slug), registerUser(slug)]);
    const setRoles = await call(`/v1/admin/users/${mod.userId}/roles`, {
      method: "PUT",
      ...as(slug, owner),
      json: { roles: ["admin"] },
    });
    expect(setRoles.status).toBe(200);
    const ownerId = (await (await call("/v1/me", as(slug, owner))).json<{ id: string }>()).id;
    const adminTokens = await (await login(slug, mod.username, mod.password)).json<Tokens>();
    await expectProblem(
      await call(`/v1/admin/users/${ownerId}`, {
        method: "DELETE",
        tenant: slug,
        headers: bearer(adminTokens.accessToken),
      }),
      403,
      "rank_too_low",
    );
    const fileId = await upload(slug, u);
    // Suspended first: an admin's delete erases a suspended user too.
    expect((await call(`/v1/admin/users/${u.userId}/suspend`, { method: "POST", ...as(slug, owner) })).status).toBe(
      200,
    );
    expect((await call(`/v1/admin/users/${u.userId}`, { method: "DELETE", ...as(slug, owner) })).status).toBe(204);
    const { db } = await tenantDbOf(slug);
    const [row] = await db.all<{ erased_at: number | null; status: string }>(
      sql`SELECT erased_at, status FROM users WHERE id = ${u.userId}`,
    );
    expect(row).toMatchObject({ status: "deleted" });
    expect(row!.erased_at).not.toBeNull();
    const [f] = await db.all<{ status: string; name: string }>(
      sql`SELECT status, name FROM files WHERE id = ${fileId}`,
    );
    expect(f).toEqual({ status: "deleted", name: "" });
    await expectProblem(
      await call(`/v1/admin/users/${u.userId}`, { method: "DELETE", ...as(slug, owner) }),
      404,
      "user_not_found",
    );
  });

  it("messagesOnErasure keep leaves the bodies; a message sent by the erased user after erasure is refused", async () => {
    const { tenant } = await tenantWithOwner({ privacy: { deletionGraceHours: 0, messagesOnErasure: "keep" } });
    const slug = tenant.slug;
    const [u, other] = await Promise.all([registerUser(slug), registerUser(slug)]);
    const gid = await group(slug, other, [u]);
    await send(slug, u, gid, "kept words");
    expect((await deleteMe(slug, u, { password: u.password })).status).toBe(202);
    const msgs = await history(slug, other, gid);
    expect(
      msgs.find((m) => m.senderId === u.userId && (m.body as { text?: string })?.text === "kept words"),
    ).toBeTruthy();
    expect(msgs.some((m) => m.senderDeleted)).toBe(false);
    // A send that got past the hub before the erasure lands nowhere after it.
    const { id: tenantId } = await tenantDbOf(slug);
    const late = await conversationStub(env, tenantId, gid).send(u.userId, {
      clientId: crypto.randomUUID(),
      kind: "text",
      body: { text: "from beyond" },
    });
    expect(late.ok).toBe(false);
    expect(JSON.stringify(await history(slug, other, gid))).not.toContain("from beyond");
  });

  it("an erasure racing a friend request and message sends leaves no edge and no words behind", async () => {
    const { tenant } = await tenantWithOwner({
      privacy: { deletionGraceHours: 0 },
      messages: { directWithStrangers: true },
    });
    const slug = tenant.slug;
    const [u, other] = await Promise.all([registerUser(slug), registerUser(slug)]);
    const gid = await group(slug, other, [u]);
    const sends = Array.from({ length: 5 }, (_, i) =>
      call(`/v1/conversations/${gid}/messages`, {
        method: "POST",
        ...as(slug, u),
        json: { clientId: crypto.randomUUID(), kind: "text", body: { text: `racing words ${i}` } },
      }),
    );
    const [del, request] = await Promise.all([
      deleteMe(slug, u, { password: u.password }),
      call("/v1/friends/requests", { method: "POST", ...as(slug, other), json: { toUserId: u.userId } }),
      ...sends,
    ]);
    expect(del.status).toBe(202);
    // The request lost (404: no such user) or won (then the erasure removed it from both sides).
    expect([201, 404]).toContain(request.status);
    const outgoing = await (await call("/v1/friends/requests?direction=outgoing", as(slug, other))).text();
    expect(outgoing).not.toContain(u.userId);
    expect(await (await call("/v1/friends", as(slug, other))).text()).not.toContain(u.userId);
    expect(JSON.stringify(await history(slug, other, gid))).not.toContain("racing words");
  });

  const react = (slug: string, u: User, id: string, what: "like" | "bookmark") =>
    call(`/v1/posts/${id}/${what}`, { method: "PUT", ...as(slug, u) });
  const postOf = async (slug: string, u: User, id: string) => call(`/v1/posts/${id}`, as(slug, u));

  it("contentOnErasure delete removes posts, comments, likes and bookmarks and keeps every counter exact", async () => {
    const { tenant } = await tenantWithOwner({ privacy: { deletionGraceHours: 0 } });
    const slug = tenant.slug;
    const [u, other] = await Promise.all([registerUser(slug), registerUser(slug)]);
    const mine = await create(slug, u, { title: "mine", body: "my words", visibility: "public" });
    const theirs = await create(slug, other, { title: "theirs", body: "their words", visibility: "public" });
    await comment(slug, u, theirs.id, "my comment");
    await comment(slug, other, theirs.id, "their comment");
    await comment(slug, other, mine.id, "on my post");
    expect((await react(slug, u, theirs.id, "like")).status).toBe(200);
    expect((await react(slug, other, theirs.id, "like")).status).toBe(200);
    expect((await react(slug, u, theirs.id, "bookmark")).status).toBe(200);
    expect((await deleteMe(slug, u, { password: u.password })).status).toBe(202);

    expect((await postOf(slug, other, mine.id)).status).toBe(404);
    const after = await (await postOf(slug, other, theirs.id)).json<Post>();
    expect(after.counts).toMatchObject({ likes: 1, comments: 1, bookmarks: 0 });
    const { db } = await tenantDbOf(slug);
    const [left] = await db.all<{ n: number }>(sql`SELECT
      (SELECT count(*) FROM posts WHERE author_id = ${u.userId} AND (body != '' OR title != '')) +
      (SELECT count(*) FROM comments WHERE author_id = ${u.userId} AND body != '') +
      (SELECT count(*) FROM post_likes WHERE user_id = ${u.userId}) +
      (SELECT count(*) FROM post_bookmarks WHERE user_id = ${u.userId}) AS n`);
    expect(left!.n).toBe(0);
  });

  it("contentOnErasure anonymize keeps posts and comments under a deleted user", async () => {
    const { tenant } = await tenantWithOwner({ privacy: { deletionGraceHours: 0, contentOnErasure: "anonymize" } });
    const slug = tenant.slug;
    const [u, other] = await Promise.all([registerUser(slug), registerUser(slug)]);
    const mine = await create(slug, u, { title: "kept", body: "kept words", visibility: "public" });
    expect((await react(slug, u, mine.id, "like")).status).toBe(200);
    expect((await deleteMe(slug, u, { password: u.password })).status).toBe(202);
    const res = await postOf(slug, other, mine.id);
    expect(res.status).toBe(200);
    const p = await res.json<Post>();
    expect(p).toMatchObject({ body: "kept words", counts: { likes: 1 } });
    expect(p.author.nickname).toBe("");
  });
});
