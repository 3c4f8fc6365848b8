import { describe, expect, it } from "vitest";
import { as, registerUser, secondDevice } from "./auth-helpers";
import { call, createTenant } from "./helpers";
import { connect, group, nth, type Frame, type Sock } from "./socket-helpers";

type U = Awaited<ReturnType<typeof registerUser>>;

/** A tenant with a group of three (owner first) and a socket per member (the owner on two devices). */
async function setup(config: Record<string, unknown> = {}) {
  const t = (await createTenant({ config })).slug;
  const [o, m, x] = [await registerUser(t), await registerUser(t), await registerUser(t)];
  const id = await group(t, o, [m, x]);
  const o2 = await secondDevice(t, o);
  const [so, so2, sm, sx] = await Promise.all([
    connect(t, { token: o.tokens.accessToken }),
    connect(t, { token: o2.accessToken }),
    connect(t, { token: m.tokens.accessToken }),
    connect(t, { token: x.tokens.accessToken }),
  ]);
  return { t, o, m, x, id, so, so2, sm, sx };
}

/** Sends a text over the socket and answers its ack. */
async function sendText(s: Sock, id: string, text: string): Promise<Frame> {
  const clientId = crypto.randomUUID();
  s.send({ type: "send", clientId, conversationId: id, body: { text } });
  return s.frame("ack", (f) => f.clientId === clientId);
}

const errorFor = (s: Sock, clientId: string) => s.frame("error", (f) => f.clientId === clientId);
const history = async (t: string, u: U, id: string) =>
  (await (await call(`/v1/conversations/${id}/messages?limit=100`, as(t, u))).json<{ items: Frame[] }>()).items;

describe("edit and recall over the socket", () => {
  it("edit: answered with `edited`; every device of every member, the editing one included, gets the log entry", async () => {
    const { t, o, m, id, so, so2, sm, sx } = await setup();
    const ack = await sendText(sm, id, "helo");
    sm.send({ type: "edit", conversationId: id, messageId: ack.messageId, body: { text: "hello" }, clientId: "e1" });
    const edited = await sm.frame("edited");
    expect(edited).toEqual({
      type: "edited",
      conversationId: id,
      messageId: ack.messageId,
      seq: (ack.seq as number) + 1,
      clientId: "e1",
    });
    for (const s of [so, so2, sm, sx]) {
      const entry = await s.frame("message", (f) => f.kind === "edit");
      expect(entry).toMatchObject({
        conversationId: id,
        seq: edited.seq,
        senderId: m.userId,
        body: { messageId: ack.messageId, body: { text: "hello" } },
      });
    }
    // Without a clientId the answer has none; history shows the latest body.
    sm.send({ type: "edit", conversationId: id, messageId: ack.messageId, body: { text: "hello!" } });
    expect(Object.keys(await nth(sm, "edited", 2)).sort()).toEqual(["conversationId", "messageId", "seq", "type"]);
    const [original] = await history(t, o, id);
    expect(original).toMatchObject({
      messageId: ack.messageId,
      body: { text: "hello!" },
      editedAt: expect.any(String),
    });
  });

  it("edit refusals carry the HTTP codes, the clientId and the conversation; the socket stays open", async () => {
    const { t, o, id, so, sm } = await setup({ messages: { moderation: { mode: "block", words: ["spam"] } } });
    const ack = await sendText(sm, id, "mine");
    const edit = (s: Sock, clientId: string, extra: Record<string, unknown>) =>
      s.send({ type: "edit", conversationId: id, messageId: ack.messageId, body: { text: "x" }, clientId, ...extra });
    edit(so, "other", {});
    expect(await errorFor(so, "other")).toMatchObject({ code: "not_message_sender", conversationId: id });
    edit(sm, "nosuch", { messageId: "nosuchmessage" });
    expect(await errorFor(sm, "nosuch")).toMatchObject({ code: "message_not_found" });
    edit(sm, "empty", { body: { text: "" } });
    // The body is the conversation's to judge: the code HTTP answers for it.
    expect(await errorFor(sm, "empty")).toMatchObject({ code: "validation_failed" });
    edit(sm, "kind", { body: { n: 1 } });
    expect(await errorFor(sm, "kind")).toMatchObject({ code: "validation_failed" });
    edit(sm, "spam", { body: { text: "now spam" } });
    expect(await errorFor(sm, "spam")).toMatchObject({ code: "message_blocked" });
    // Malformed frames: no messageId, an extra field, a bad conversation id.
    sm.send({ type: "edit", conversationId: id, body: { text: "x" }, clientId: "noid" });
    sm.send({
      type: "edit",
      conversationId: id,
      messageId: ack.messageId,
      body: { text: "x" },
      clientId: "extra",
      seq: 1,
    });
    sm.send({ type: "recall", conversationId: "g_nope", messageId: ack.messageId, clientId: "badconv" });
    for (const c of ["noid", "extra", "badconv"])
      expect(await errorFor(sm, c)).toMatchObject({ code: "invalid_frame" });
    // Another tenant's user sees no conversation under this id.
    const other = await createTenant();
    const stranger = await registerUser(other.slug);
    const ss = await connect(other.slug, { token: stranger.tokens.accessToken });
    ss.send({ type: "recall", conversationId: id, messageId: ack.messageId, clientId: "cross" });
    expect(await errorFor(ss, "cross")).toMatchObject({ code: "conversation_not_found", conversationId: id });
    // An edit or recall entry is not itself editable.
    sm.send({ type: "edit", conversationId: id, messageId: ack.messageId, body: { text: "fine" }, clientId: "ok" });
    const done = await sm.frame("edited");
    const entry = (await history(t, o, id)).find((f) => f.seq === done.seq)!;
    sm.send({ type: "recall", conversationId: id, messageId: entry.messageId, clientId: "entry" });
    expect(await errorFor(sm, "entry")).toMatchObject({ code: "message_not_found" });
    sm.send({ type: "ping" });
    await sm.frame("pong");
    expect((await history(t, o, id)).map((f) => f.kind)).toEqual(["text", "edit"]);
  });

  it("recall: the sender within the window, group owner/admins any time; twice is message_recalled; removed members are refused", async () => {
    const { t, o, m, x, id, so, sm, sx } = await setup({ messages: { recallWindowSeconds: 0, editWindowSeconds: 0 } });
    const ack = await sendText(sm, id, "oops");
    sm.send({ type: "edit", conversationId: id, messageId: ack.messageId, body: { text: "oops!" }, clientId: "late" });
    expect(await errorFor(sm, "late")).toMatchObject({ code: "edit_window_expired" });
    sm.send({ type: "recall", conversationId: id, messageId: ack.messageId, clientId: "r1" });
    expect(await errorFor(sm, "r1")).toMatchObject({ code: "recall_window_expired" });
    sx.send({ type: "recall", conversationId: id, messageId: ack.messageId, clientId: "r2" });
    expect(await errorFor(sx, "r2")).toMatchObject({ code: "not_message_sender" });
    so.send({ type: "recall", conversationId: id, messageId: ack.messageId, clientId: "r3" });
    const recalled = await so.frame("recalled");
    expect(recalled).toEqual({
      type: "recalled",
      conversationId: id,
      messageId: ack.messageId,
      seq: (ack.seq as number) + 1,
      clientId: "r3",
    });
    expect(await sm.frame("message", (f) => f.kind === "recall")).toMatchObject({
      seq: recalled.seq,
      senderId: o.userId,
      body: { messageId: ack.messageId },
    });
    so.send({ type: "recall", conversationId: id, messageId: ack.messageId, clientId: "r4" });
    expect(await errorFor(so, "r4")).toMatchObject({ code: "message_recalled" });
    sm.send({ type: "edit", conversationId: id, messageId: ack.messageId, body: { text: "back" }, clientId: "r5" });
    expect(await errorFor(sm, "r5")).toMatchObject({ code: "message_recalled" });
    expect((await history(t, m, id))[0]).toMatchObject({ body: null, recalled: true });
    // Removed: the conversation is gone for x, over the socket too.
    expect((await call(`/v1/conversations/${id}/members/${x.userId}`, { method: "DELETE", ...as(t, o) })).status).toBe(
      204,
    );
    const mine = await sendText(so, id, "after");
    sx.send({ type: "recall", conversationId: id, messageId: mine.messageId, clientId: "gone" });
    expect(await errorFor(sx, "gone")).toMatchObject({ code: "conversation_not_found" });
  });
});

describe("the tenant's policy in socket sends", () => {
  it("a moderation change reaches socket sends within the cache TTL plus one send; the refused one is not stored", async () => {
    const { t, o, id, sm } = await setup();
    await sendText(sm, id, "spam is fine for now");
    const res = await call(`/admin/v1/tenants/${t}`, {
      method: "PATCH",
      admin: true,
      json: { config: { messages: { moderation: { mode: "block", words: ["spam"] } } } },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await new Promise((r) => setTimeout(r, 1100)); // TENANT_CACHE_TTL_MS = 1 s in tests
    // The first send after the TTL may still see the old policy (it starts the refresh); the next ones see the new one.
    const stored = (await history(t, o, id)).length;
    const first = crypto.randomUUID();
    sm.send({ type: "send", clientId: first, conversationId: id, body: { text: "spam again" } });
    await sm.until(
      () => sm.frames.find((f) => f.clientId === first && (f.type === "ack" || f.type === "error")),
      "an answer",
    );
    await new Promise((r) => setTimeout(r, 200));
    const second = crypto.randomUUID();
    sm.send({ type: "send", clientId: second, conversationId: id, body: { text: "more spam" } });
    expect(await errorFor(sm, second)).toMatchObject({ code: "message_blocked" });
    const firstAcked = sm.frames.some((f) => f.clientId === first && f.type === "ack");
    expect((await history(t, o, id)).length).toBe(stored + (firstAcked ? 1 : 0));
  });
});
