import { describe, expect, it } from "vitest";
import { bearer, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

type U = Awaited<ReturnType<typeof registerUser>>;
interface Conv {
  id: string;
  name: string | null;
  ownerId: string;
  members: { userId: string; role: string }[];
  muted: boolean;
  unreadCount: number;
}
interface Msg {
  seq: number;
  messageId: string;
  senderId: string;
  kind: string;
  body: unknown;
  editedAt?: string;
  recalled?: true;
}

const as = (t: string, u: U) => ({ tenant: t, headers: bearer(u.tokens.accessToken) });
const post = (t: string, u: U, id: string, json: unknown) =>
  call(`/v1/conversations/${id}/messages`, { method: "POST", ...as(t, u), json });
const add = (t: string, u: U, id: string, userIds: string[]) =>
  call(`/v1/conversations/${id}/members`, { method: "POST", ...as(t, u), json: { userIds } });
const remove = (t: string, u: U, id: string, who: string) =>
  call(`/v1/conversations/${id}/members/${who}`, { method: "DELETE", ...as(t, u) });
const patchMember = (t: string, u: U, id: string, who: string, json: unknown) =>
  call(`/v1/conversations/${id}/members/${who}`, { method: "PATCH", ...as(t, u), json });
const history = async (t: string, u: U, id: string) =>
  (await (await call(`/v1/conversations/${id}/messages?limit=100`, as(t, u))).json<{ items: Msg[] }>()).items;
const role = (c: Conv, u: U) => c.members.find((m) => m.userId === u.userId)?.role;

async function setup(n: number, config: Record<string, unknown> = {}) {
  const t = await createTenant({ config });
  const list: U[] = [];
  for (let i = 0; i < n; i++) list.push(await registerUser(t.slug));
  return { t: t.slug, u: list };
}

async function group(t: string, owner: U, members: U[]): Promise<string> {
  const res = await call("/v1/conversations", {
    method: "POST",
    ...as(t, owner),
    json: { type: "group", name: "g", memberIds: members.map((m) => m.userId) },
  });
  expect(res.status).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

describe("group management", () => {
  it("add: owner/admins only, active unblocking users, within the size limit; events on the log; index follows", async () => {
    const { t, u } = await setup(6, { limits: { maxGroupMembers: 4 } });
    const [o, a, m, x, y, z] = u as [U, U, U, U, U, U];
    const id = await group(t, o, [a, m]);
    await expectProblem(await add(t, x, id, [y.userId]), 404, "conversation_not_found");
    await expectProblem(await add(t, m, id, [x.userId]), 403, "insufficient_role");
    await expectProblem(await add(t, o, id, ["01nosuchuser0000000000000"]), 404, "user_not_found");
    // y blocked the owner: never added by them.
    expect((await call(`/v1/blocks/${o.userId}`, { method: "PUT", ...as(t, y) })).status).toBeLessThan(300);
    await expectProblem(await add(t, o, id, [y.userId]), 404, "user_not_found");
    await expectProblem(await add(t, o, id, [x.userId, z.userId]), 422, "group_too_large");
    expect((await patchMember(t, o, id, a.userId, { role: "admin" })).status).toBe(200);
    const res = await add(t, a, id, [x.userId, m.userId]);
    expect(res.status).toBe(200);
    expect((await res.json<Conv>()).members).toHaveLength(4);
    const list = await (await call("/v1/conversations", as(t, x))).json<{ items: Conv[] }>();
    expect(list.items.map((c) => c.id)).toEqual([id]);
    expect((await call(`/v1/conversations/${id}/messages`, as(t, x))).status).toBe(200);
    const events = (await history(t, x, id)).filter((e) => e.kind === "system").map((e) => e.body);
    expect(events).toEqual([
      { event: "role_changed", userId: a.userId, role: "admin" },
      { event: "members_added", userIds: [x.userId] },
    ]);
    // Events do not count as unread.
    expect((await (await call(`/v1/conversations/${id}`, as(t, m))).json<Conv>()).unreadCount).toBe(0);
  });

  it("remove and roles: admins cannot remove the owner or admins, members cannot manage, only the owner changes roles", async () => {
    const { t, u } = await setup(5);
    const [o, a1, a2, m, x] = u as [U, U, U, U, U];
    const id = await group(t, o, [a1, a2, m]);
    await expectProblem(await patchMember(t, a1, id, a2.userId, { role: "admin" }), 403, "insufficient_role");
    for (const a of [a1, a2]) expect((await patchMember(t, o, id, a.userId, { role: "admin" })).status).toBe(200);
    await expectProblem(await remove(t, a1, id, o.userId), 403, "insufficient_role");
    await expectProblem(await remove(t, a1, id, a2.userId), 403, "insufficient_role");
    await expectProblem(await remove(t, m, id, a1.userId), 403, "insufficient_role");
    await expectProblem(await remove(t, x, id, m.userId), 404, "conversation_not_found");
    await expectProblem(await remove(t, o, id, x.userId), 404, "member_not_found");
    await expectProblem(await patchMember(t, o, id, o.userId, { role: "member" }), 409, "owner_must_transfer");
    await expectProblem(await patchMember(t, m, id, m.userId, { role: "owner" }), 403, "insufficient_role");
    await expectProblem(
      await call(`/v1/conversations/${id}`, { method: "PATCH", ...as(t, m), json: { name: "mine" } }),
      403,
      "insufficient_role",
    );
    expect((await remove(t, a1, id, m.userId)).status).toBe(204);
    await expectProblem(await call(`/v1/conversations/${id}`, as(t, m)), 404, "conversation_not_found");
    expect((await (await call("/v1/conversations", as(t, m))).json<{ items: Conv[] }>()).items).toEqual([]);
    expect((await patchMember(t, o, id, a2.userId, { role: "member" })).status).toBe(200);
    expect((await remove(t, o, id, a2.userId)).status).toBe(204);
    const renamed = await call(`/v1/conversations/${id}`, { method: "PATCH", ...as(t, a1), json: { name: "renamed" } });
    expect((await renamed.json<Conv>()).name).toBe("renamed");
    const events = (await history(t, o, id)).map((e) => [e.kind, (e.body as { event: string }).event]);
    expect(events).toEqual([
      ["system", "role_changed"],
      ["system", "role_changed"],
      ["system", "member_removed"],
      ["system", "role_changed"],
      ["system", "member_removed"],
      ["system", "renamed"],
    ]);
    const seqs = (await history(t, o, id)).map((e) => e.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("transfer and leave: ownership moves; an owner leaving hands over to the oldest admin, else the oldest member", async () => {
    const { t, u } = await setup(4);
    const [o, a, b, c] = u as [U, U, U, U];
    const id = await group(t, o, [a, b, c]);
    const moved = await (await patchMember(t, o, id, a.userId, { role: "owner" })).json<Conv>();
    expect(moved.ownerId).toBe(a.userId);
    expect(role(moved, o)).toBe("admin");
    expect(role(moved, a)).toBe("owner");
    // a (owner) leaves: o is the only admin, so o owns it again.
    expect((await remove(t, a, id, "me")).status).toBe(204);
    let now = await (await call(`/v1/conversations/${id}`, as(t, b))).json<Conv>();
    expect(now.ownerId).toBe(o.userId);
    expect(role(now, o)).toBe("owner");
    // o leaves with no admins left: the oldest remaining member (b or c, same join time: by id) takes over.
    expect((await remove(t, o, id, o.userId)).status).toBe(204);
    now = await (await call(`/v1/conversations/${id}`, as(t, b))).json<Conv>();
    const heir = [b.userId, c.userId].sort()[0]!;
    expect(now.ownerId).toBe(heir);
    expect(now.members).toHaveLength(2);
    const bodies = (await history(t, b, id)).map((e) => e.body);
    expect(bodies).toEqual([
      { event: "owner_transferred", from: o.userId, to: a.userId },
      { event: "member_left", userId: a.userId, newOwnerId: o.userId },
      { event: "member_left", userId: o.userId, newOwnerId: heir },
    ]);
  });

  it("mute is per member and private; direct conversations have no group management", async () => {
    const { t, u } = await setup(3);
    const [o, m, x] = u as [U, U, U];
    const id = await group(t, o, [m]);
    const muted = await (await patchMember(t, m, id, "me", { muted: true })).json<Conv>();
    expect(muted.muted).toBe(true);
    expect((await (await call(`/v1/conversations/${id}`, as(t, o))).json<Conv>()).muted).toBe(false);
    await expectProblem(await patchMember(t, o, id, m.userId, { muted: false }), 403, "not_yourself");
    await expectProblem(await patchMember(t, x, id, "me", { muted: true }), 404, "conversation_not_found");
    await expectProblem(await patchMember(t, m, id, "me", {}), 400, "validation_failed");
    // Muted members still get messages (only push is skipped).
    expect((await post(t, o, id, { clientId: "1", body: { text: "hi" } })).status).toBe(201);
    expect((await history(t, m, id)).map((e) => e.kind)).toEqual(["text"]);

    const { id: fid } = await (
      await call("/v1/friends/requests", { method: "POST", ...as(t, o), json: { toUserId: x.userId } })
    ).json<{ id: string }>();
    expect((await call(`/v1/friends/requests/${fid}/accept`, { method: "POST", ...as(t, x) })).status).toBe(204);
    const d = await (
      await call("/v1/conversations", { method: "POST", ...as(t, o), json: { type: "direct", userId: x.userId } })
    ).json<{ id: string }>();
    await expectProblem(await add(t, o, d.id, [m.userId]), 409, "not_a_group");
    await expectProblem(await remove(t, o, d.id, "me"), 409, "not_a_group");
    expect((await patchMember(t, x, d.id, "me", { muted: true })).status).toBe(200);
  });
});
