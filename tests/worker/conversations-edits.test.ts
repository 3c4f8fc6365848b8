import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { bearer, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

type U = Awaited<ReturnType<typeof registerUser>>;
interface Msg {
  seq: number;
  messageId: string;
  senderId: string;
  kind: string;
  body: unknown;
  editedAt?: string;
  recalled?: true;
}
interface Change {
  message: Msg;
  event: Msg;
}

const as = (t: string, u: U) => ({ tenant: t, headers: bearer(u.tokens.accessToken) });
const post = (t: string, u: U, id: string, json: unknown) =>
  call(`/v1/conversations/${id}/messages`, { method: "POST", ...as(t, u), json });
const edit = (t: string, u: U, id: string, mid: string, body: unknown) =>
  call(`/v1/conversations/${id}/messages/${mid}`, { method: "PATCH", ...as(t, u), json: { body } });
const recall = (t: string, u: U, id: string, mid: string) =>
  call(`/v1/conversations/${id}/messages/${mid}`, { method: "DELETE", ...as(t, u) });
const history = async (t: string, u: U, id: string) =>
  (await (await call(`/v1/conversations/${id}/messages?limit=100`, as(t, u))).json<{ items: Msg[] }>()).items;

async function setup(n: number, config: Record<string, unknown> = {}) {
  const tenant = await createTenant({ config });
  const u: U[] = [];
  for (let i = 0; i < n; i++) u.push(await registerUser(tenant.slug));
  const res = await call("/v1/conversations", {
    method: "POST",
    ...as(tenant.slug, u[0]!),
    json: { type: "group", name: "g", memberIds: u.slice(1).map((x) => x.userId) },
  });
  return { t: tenant.slug, tenantId: tenant.id, u: u as [U, U, U], id: (await res.json<{ id: string }>()).id };
}
const send = async (t: string, u: U, id: string, text: string) =>
  await (await post(t, u, id, { clientId: crypto.randomUUID(), body: { text } })).json<Msg>();

describe("edit and recall", () => {
  it("edit: sender only, within the window, an edit event on the log; history shows the latest text", async () => {
    const {
      t,
      u: [o, m, x],
      id,
    } = await setup(3);
    const msg = await send(t, m, id, "helo");
    expect((await call(`/v1/conversations/${id}/members/${x.userId}`, { method: "DELETE", ...as(t, o) })).status).toBe(
      204,
    );
    await expectProblem(await edit(t, o, id, msg.messageId, { text: "hijack" }), 403, "not_message_sender");
    await expectProblem(await edit(t, x, id, msg.messageId, { text: "x" }), 404, "conversation_not_found");
    await expectProblem(await edit(t, m, id, "nosuchmessage", { text: "x" }), 404, "message_not_found");
    await expectProblem(await edit(t, m, id, msg.messageId, { text: "" }), 400, "validation_failed");
    const res = await edit(t, m, id, msg.messageId, { text: "hello" });
    expect(res.status).toBe(200);
    const change = await res.json<Change>();
    expect(change.message).toMatchObject({ seq: msg.seq, body: { text: "hello" } });
    expect(Date.parse(change.message.editedAt!)).toBeGreaterThan(0);
    expect(change.event).toMatchObject({
      seq: msg.seq + 2,
      kind: "edit",
      senderId: m.userId,
      body: { messageId: msg.messageId, body: { text: "hello" } },
    });
    const items = await history(t, o, id);
    expect(items.map((i) => [i.seq, i.kind])).toEqual([
      [1, "text"],
      [2, "system"],
      [3, "edit"],
    ]);
    expect(items[0]!.body).toEqual({ text: "hello" });
    await expectProblem(await edit(t, m, id, change.event.messageId, { text: "x" }), 404, "message_not_found");
  });

  it("recall: sender within the window, group owner/admins any time; recalled messages cannot be edited", async () => {
    const {
      t,
      u: [o, m, x],
      id,
    } = await setup(3, { messages: { recallWindowSeconds: 0 } });
    const mine = await send(t, m, id, "oops");
    await expectProblem(await recall(t, m, id, mine.messageId), 409, "recall_window_expired");
    await expectProblem(await recall(t, x, id, mine.messageId), 403, "not_message_sender");
    const r = await (await recall(t, o, id, mine.messageId)).json<Change>();
    expect(r.message).toMatchObject({ body: null, recalled: true });
    expect(r.event).toMatchObject({ kind: "recall", senderId: o.userId, body: { messageId: mine.messageId } });
    await expectProblem(await recall(t, o, id, mine.messageId), 409, "message_recalled");
    await expectProblem(await edit(t, m, id, mine.messageId, { text: "fixed" }), 409, "message_recalled");
    expect((await history(t, m, id)).map((i) => [i.kind, i.recalled ?? false, i.body === null])).toEqual([
      ["text", true, true],
      ["recall", false, false],
    ]);
    expect((await call(`/v1/conversations/${id}`, as(t, o))).status).toBe(200);
  });

  it("windows come from the tenant config and are checked against the send time", async () => {
    const {
      t,
      tenantId,
      u: [o, m],
      id,
    } = await setup(2, { messages: { editWindowSeconds: 0, recallWindowSeconds: 60 } });
    const msg = await send(t, m, id, "one");
    await expectProblem(await edit(t, m, id, msg.messageId, { text: "two" }), 409, "edit_window_expired");
    expect((await recall(t, m, id, msg.messageId)).status).toBe(200);
    // The object's own clock parameter: a recall 61 s after sending is refused.
    const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(`${tenantId}:${id}`));
    const later = await send(t, m, id, "three");
    const policy = {
      editWindowSeconds: 900,
      recallWindowSeconds: 60,
      moderation: { mode: "off" as const, words: [] },
      maxGroupMembers: 10,
      gateways: 16,
      directWithStrangers: false,
    };
    const sent = Date.parse((later as unknown as { sentAt: string }).sentAt);
    expect(await stub.recall(m.userId, later.messageId, policy, sent + 61_000)).toMatchObject({
      ok: false,
      code: "recall_window_expired",
    });
    expect(await stub.edit(m.userId, later.messageId, { text: "3" }, policy, sent + 899_000)).toMatchObject({
      ok: true,
    });
    expect(await stub.edit(m.userId, later.messageId, { text: "4" }, policy, sent + 900_000)).toMatchObject({
      ok: false,
      code: "edit_window_expired",
    });
    void o;
  });
});

describe("moderation hook", () => {
  it("block refuses the send with message_blocked (HTTP 422, and over the object's own policy load); nothing is stored", async () => {
    const {
      t,
      tenantId,
      u: [o, m],
      id,
    } = await setup(2, { messages: { moderation: { mode: "block", words: ["Spam", "坏蛋"] } } });
    await expectProblem(
      await post(t, m, id, { clientId: "a", body: { text: "buy SPAM now" } }),
      422,
      "message_blocked",
    );
    await expectProblem(await post(t, m, id, { clientId: "b", body: { text: "你是坏蛋吗" } }), 422, "message_blocked");
    expect((await post(t, m, id, { clientId: "c", kind: "custom", body: { text: "spam" } })).status).toBe(201);
    const ok = await send(t, m, id, "fine");
    await expectProblem(await edit(t, m, id, ok.messageId, { text: "now spam" }), 422, "message_blocked");
    // The socket path brings no policy: the object loads the tenant's config itself.
    const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(`${tenantId}:${id}`));
    expect(await stub.send(m.userId, { clientId: "d", kind: "text", body: { text: "spam!" } })).toMatchObject({
      ok: false,
      code: "message_blocked",
    });
    expect((await history(t, o, id)).map((i) => i.seq)).toEqual([1, 2]);
  });

  it("review, which holds posts and comments, refuses a chat message like block (it cannot wait)", async () => {
    const {
      t,
      u: [, m],
      id,
    } = await setup(2, { messages: { moderation: { mode: "review", words: ["spam"] } } });
    await expectProblem(await post(t, m, id, { clientId: "a", body: { text: "spam" } }), 422, "message_blocked");
    expect((await post(t, m, id, { clientId: "b", body: { text: "fine" } })).status).toBe(201);
  });

  it("mask stores the message with matches starred, overlapping and CJK included", async () => {
    const {
      t,
      u: [o, m],
      id,
    } = await setup(2, { messages: { moderation: { mode: "mask", words: ["abc", "cde", "坏人", "人民"] } } });
    expect((await send(t, m, id, "xABCDEx and 坏人民 ok")).body).toEqual({ text: "x*****x and *** ok" });
    const plain = await send(t, m, id, "clean");
    expect(plain.body).toEqual({ text: "clean" });
    const edited = await (await edit(t, m, id, plain.messageId, { text: "abc" })).json<Change>();
    expect(edited.message.body).toEqual({ text: "***" });
    expect((await history(t, o, id))[0]!.body).toEqual({ text: "x*****x and *** ok" });
  });

  it("the moderation config is patchable and merged two levels deep", async () => {
    const tenant = await createTenant({ config: { messages: { moderation: { mode: "block", words: ["x"] } } } });
    expect(tenant.config).toMatchObject({
      messages: { editWindowSeconds: 900, recallWindowSeconds: 120, moderation: { mode: "block", words: ["x"] } },
    });
  });
});
