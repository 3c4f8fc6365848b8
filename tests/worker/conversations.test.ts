import { describe, expect, it } from "vitest";
import { bearer, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";
import { connect } from "./socket-helpers";

type U = Awaited<ReturnType<typeof registerUser>>;
interface Conv {
  id: string;
  type: string;
  name: string | null;
  ownerId: string;
  members: { userId: string; role: string }[];
  lastSeq: number;
  lastMessage: { seq: number; body: unknown } | null;
  unreadCount: number;
  readSeq: number;
}
interface Msg {
  seq: number;
  messageId: string;
  senderId: string;
  kind: string;
  body: unknown;
  sentAt: string;
}

const as = (t: string, u: U) => ({ tenant: t, headers: bearer(u.tokens.accessToken) });
const create = (t: string, u: U, json: unknown) => call("/v1/conversations", { method: "POST", ...as(t, u), json });
const post = (t: string, u: U, id: string, json: unknown) =>
  call(`/v1/conversations/${id}/messages`, { method: "POST", ...as(t, u), json });

async function befriend(t: string, a: U, b: U) {
  const { id } = await (
    await call("/v1/friends/requests", { method: "POST", ...as(t, a), json: { toUserId: b.userId } })
  ).json<{ id: string }>();
  expect((await call(`/v1/friends/requests/${id}/accept`, { method: "POST", ...as(t, b) })).status).toBe(204);
}

async function users(n: number, config: Record<string, unknown> = {}) {
  const t = await createTenant({ config });
  const list: U[] = [];
  for (let i = 0; i < n; i++) list.push(await registerUser(t.slug));
  // Every caller asks for at most three users.
  return { t: t.slug, list: list as [U, U, U] };
}

describe("conversations over HTTP", () => {
  it("direct conversations are between friends, one per pair whoever starts them; blocks look like no user", async () => {
    const {
      t,
      list: [a, b, c],
    } = await users(3);
    await expectProblem(await create(t, a, { type: "direct", userId: b.userId }), 403, "not_friends");
    await befriend(t, a, b);
    const first = await create(t, a, { type: "direct", userId: b.userId });
    expect(first.status).toBe(201);
    const conv = await first.json<Conv>();
    expect(conv).toMatchObject({ type: "direct", name: null, lastSeq: 0, lastMessage: null, unreadCount: 0 });
    expect(conv.members.map((m) => m.userId).sort()).toEqual([a.userId, b.userId].sort());
    const again = await create(t, b, { type: "direct", userId: a.userId });
    expect(again.status).toBe(200);
    expect((await again.json<Conv>()).id).toBe(conv.id);
    await expectProblem(await create(t, a, { type: "direct", userId: a.userId }), 400, "cannot_message_self");
    await expectProblem(
      await create(t, a, { type: "direct", userId: "01nosuchuser0000000000000" }),
      404,
      "user_not_found",
    );
    await befriend(t, a, c);
    expect((await call(`/v1/blocks/${a.userId}`, { method: "PUT", ...as(t, c) })).status).toBeLessThan(300);
    await expectProblem(await create(t, a, { type: "direct", userId: c.userId }), 404, "user_not_found");
    await expectProblem(await post(t, a, conv.id, { clientId: "x" }), 400, "validation_failed");
    await expectProblem(await call(`/v1/conversations/${conv.id}`, as(t, c)), 404, "conversation_not_found");
  });

  it("a tenant may allow direct conversations between strangers; blocks still refuse them, other tenants' users stay unknown", async () => {
    const {
      t,
      list: [a, b, c],
    } = await users(3, { messages: { directWithStrangers: true } });
    const res = await create(t, a, { type: "direct", userId: b.userId });
    expect(res.status).toBe(201);
    const conv = await res.json<Conv>();
    expect((await post(t, b, conv.id, { clientId: "hi", body: { text: "hello stranger" } })).status).toBe(201);
    expect((await call(`/v1/blocks/${a.userId}`, { method: "PUT", ...as(t, c) })).status).toBeLessThan(300);
    await expectProblem(await create(t, a, { type: "direct", userId: c.userId }), 404, "user_not_found");
    await expectProblem(await create(t, c, { type: "direct", userId: a.userId }), 404, "user_not_found");
    const other = await users(1);
    await expectProblem(await create(t, a, { type: "direct", userId: other.list[0]!.userId }), 404, "user_not_found");
  });

  it("a direct conversation whose friendship ended refuses sends like it refuses being created: 403 not_friends over HTTP and the socket", async () => {
    const {
      t,
      list: [a, b],
    } = await users(2);
    await befriend(t, a, b);
    const { id } = await (await create(t, a, { type: "direct", userId: b.userId })).json<Conv>();
    expect((await post(t, a, id, { clientId: "before", body: { text: "hi" } })).status).toBe(201);
    expect((await call(`/v1/friends/${a.userId}`, { method: "DELETE", ...as(t, b) })).status).toBe(204);
    await expectProblem(await create(t, a, { type: "direct", userId: b.userId }), 403, "not_friends");
    await expectProblem(
      await post(t, a, id, { clientId: "after-a", body: { text: "still there?" } }),
      403,
      "not_friends",
    );
    await expectProblem(
      await post(t, b, id, { clientId: "after-b", body: { text: "still there?" } }),
      403,
      "not_friends",
    );
    const sa = await connect(t, { token: a.tokens.accessToken });
    sa.send({ type: "send", clientId: "sock-a", conversationId: id, body: { text: "over the socket" } });
    expect(await sa.frame("error")).toMatchObject({ code: "not_friends", clientId: "sock-a", conversationId: id });
    // Nothing was stored; friends again, the conversation goes on where it stopped.
    await befriend(t, a, b);
    sa.send({ type: "send", clientId: "sock-a2", conversationId: id, body: { text: "friends again" } });
    expect(await sa.frame("ack")).toMatchObject({ clientId: "sock-a2", seq: 2 });
    expect((await post(t, b, id, { clientId: "again-b", body: { text: "welcome back" } })).status).toBe(201);
    sa.ws.close();
  });

  it("a tenant allowing strangers lets them keep messaging, over HTTP and the socket", async () => {
    const {
      t,
      list: [a, b],
    } = await users(2, { messages: { directWithStrangers: true } });
    await befriend(t, a, b);
    const { id } = await (await create(t, a, { type: "direct", userId: b.userId })).json<Conv>();
    expect((await call(`/v1/friends/${a.userId}`, { method: "DELETE", ...as(t, b) })).status).toBe(204);
    expect((await post(t, a, id, { clientId: "http", body: { text: "hi" } })).status).toBe(201);
    const sb = await connect(t, { token: b.tokens.accessToken });
    sb.send({ type: "send", clientId: "sock", conversationId: id, body: { text: "hello" } });
    expect(await sb.frame("ack")).toMatchObject({ clientId: "sock", seq: 2 });
    sb.ws.close();
  });

  it("groups: owner is the creator, members must exist, size is capped by the tenant", async () => {
    const {
      t,
      list: [a, b, c],
    } = await users(3, { limits: { maxGroupMembers: 2 } });
    await expectProblem(
      await create(t, a, { type: "group", name: "big", memberIds: [b.userId, c.userId] }),
      422,
      "group_too_large",
    );
    await expectProblem(
      await create(t, a, { type: "group", name: "ghost", memberIds: ["01nosuchuser0000000000000"] }),
      404,
      "user_not_found",
    );
    const other = await users(1);
    await expectProblem(
      await create(t, a, { type: "group", name: "x", memberIds: [other.list[0]!.userId] }),
      404,
      "user_not_found",
    );
    const res = await create(t, a, { type: "group", name: "pair", memberIds: [b.userId, b.userId] });
    expect(res.status).toBe(201);
    const g = await res.json<Conv>();
    expect(g).toMatchObject({ type: "group", name: "pair", ownerId: a.userId });
    expect(g.members.find((m) => m.userId === a.userId)!.role).toBe("owner");
    expect(g.members).toHaveLength(2);
    expect((await call(`/v1/conversations/${g.id}`, as(t, b))).status).toBe(200);
    await expectProblem(await call(`/v1/conversations/${g.id}`, as(t, c)), 404, "conversation_not_found");
    await expectProblem(
      await call(`/v1/conversations/${g.id}`, as(other.t, other.list[0]!)),
      404,
      "conversation_not_found",
    );
    await expectProblem(await call("/v1/conversations/nonsense", as(t, a)), 400, "validation_failed");
  });

  it("messages: gap-free seqs, idempotent clientIds, history pages both ways, non-members refused", async () => {
    const {
      t,
      list: [a, b, x],
    } = await users(3);
    const g = await (await create(t, a, { type: "group", name: "g", memberIds: [b.userId] })).json<Conv>();
    const seqs = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const res = await post(t, i % 2 ? a : b, g.id, { clientId: `c${i}`, body: { text: `m${i}` } });
        expect(res.status).toBe(201);
        return (await res.json<Msg>()).seq;
      }),
    );
    expect([...seqs].sort((p, q) => p - q)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const retry = await post(t, b, g.id, { clientId: "c0", body: { text: "m0" } });
    expect(retry.status).toBe(200);
    expect((await retry.json<Msg>()).seq).toBe(seqs[0]);
    const custom = await (
      await post(t, a, g.id, { clientId: "j", kind: "custom", body: { card: { title: "hi" } } })
    ).json<Msg>();
    expect(custom).toMatchObject({ seq: 13, kind: "custom", body: { card: { title: "hi" } }, senderId: a.userId });
    await expectProblem(
      await post(t, a, g.id, { clientId: "big", body: { text: "x".repeat(5000) } }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await post(t, a, g.id, { clientId: "bigc", kind: "custom", body: { blob: "x".repeat(17_000) } }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await post(t, a, g.id, { clientId: "arr", kind: "custom", body: [1, 2] }),
      400,
      "validation_failed",
    );
    await expectProblem(await post(t, x, g.id, { clientId: "n", body: { text: "hi" } }), 404, "conversation_not_found");

    const page = (q: string) =>
      call(`/v1/conversations/${g.id}/messages${q}`, as(t, b)).then((r) =>
        r.json<{ items: Msg[]; nextCursor: string | null }>(),
      );
    const newest = await page("?limit=5");
    expect(newest.items.map((m) => m.seq)).toEqual([9, 10, 11, 12, 13]);
    // The signed cursor pages on in the direction it was issued for, like every other list.
    const older = await page(`?limit=5&cursor=${newest.nextCursor}`);
    expect(older.items.map((m) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    const oldest = await page(`?limit=5&cursor=${older.nextCursor}`);
    expect(oldest).toMatchObject({ nextCursor: null });
    expect(oldest.items.map((m) => m.seq)).toEqual([1, 2, 3]);
    const forward = await page("?after=10&limit=2");
    expect(forward.items.map((m) => m.seq)).toEqual([11, 12]);
    const onward = await page(`?limit=2&cursor=${forward.nextCursor}`);
    expect(onward.items.map((m) => m.seq)).toEqual([13]);
    expect(onward.nextCursor).toBeNull();
    expect((await page("?after=12&limit=2")).nextCursor).toBeNull();
    // before/after stay as aliases that start anywhere; a forged cursor or two starts are refused.
    expect((await page("?before=9&limit=5")).items.map((m) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    const get = (q: string) => call(`/v1/conversations/${g.id}/messages${q}`, as(t, b));
    await expectProblem(await get("?cursor=9"), 400, "invalid_cursor");
    await expectProblem(await get(`?cursor=${newest.nextCursor}x`), 400, "invalid_cursor");
    await expectProblem(await get(`?cursor=${newest.nextCursor}&before=9`), 400, "validation_failed");
    await expectProblem(await call(`/v1/conversations/${g.id}/messages`, as(t, x)), 404, "conversation_not_found");
  });

  it("the caller's list has last message and unread counts; read moves the cursor forward only", async () => {
    const {
      t,
      list: [a, b, c],
    } = await users(3);
    const g1 = await (await create(t, a, { type: "group", name: "one", memberIds: [b.userId] })).json<Conv>();
    const g2 = await (await create(t, a, { type: "group", name: "two", memberIds: [b.userId, c.userId] })).json<Conv>();
    for (let i = 0; i < 3; i++) await post(t, a, g1.id, { clientId: `x${i}`, body: { text: `m${i}` } });
    await post(t, b, g1.id, { clientId: "mine", body: { text: "mine" } });
    const list = async (u: U, q = "") =>
      (await call(`/v1/conversations${q}`, as(t, u))).json<{ items: Conv[]; nextCursor: string | null }>();
    const mine = await list(b);
    expect(mine.items.map((i) => i.id).sort()).toEqual([g1.id, g2.id].sort());
    const one = mine.items.find((i) => i.id === g1.id)!;
    expect(one).toMatchObject({
      lastSeq: 4,
      unreadCount: 3,
      readSeq: 0,
      lastMessage: { seq: 4, body: { text: "mine" } },
    });
    expect((await list(c)).items.map((i) => i.id)).toEqual([g2.id]);
    const p1 = await list(b, "?limit=1");
    expect(p1.items).toHaveLength(1);
    const p2 = await list(b, `?limit=1&cursor=${p1.nextCursor}`);
    expect([p1.items[0]!.id, p2.items[0]!.id].sort()).toEqual([g1.id, g2.id].sort());
    expect(p2.nextCursor).toBeNull();

    const read = (seq: number) =>
      call(`/v1/conversations/${g1.id}/read`, { method: "POST", ...as(t, b), json: { seq } });
    expect(await (await read(2)).json()).toEqual({ seq: 2 });
    expect(await (await read(1)).json()).toEqual({ seq: 2 });
    expect((await (await call(`/v1/conversations/${g1.id}`, as(t, b))).json<Conv>()).unreadCount).toBe(1);
    expect(await (await read(99)).json()).toEqual({ seq: 4 });
    expect((await (await call(`/v1/conversations/${g1.id}`, as(t, b))).json<Conv>()).unreadCount).toBe(0);
    await expectProblem(
      await call(`/v1/conversations/${g1.id}/read`, { method: "POST", ...as(t, c), json: { seq: 1 } }),
      404,
      "conversation_not_found",
    );
  });
});
