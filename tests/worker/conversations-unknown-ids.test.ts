import { env, listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { as, befriend, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";
import { connect } from "./socket-helpers";

const digits = "0123456789abcdefghijklmnopqrstuvwxyz";
const randomOf = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => digits[b % 36]).join("");
/** Well-formed conversation ids nobody created: groups (`g_`) and direct pairs (`d_`). */
const randomIds = (n: number) =>
  Array.from({ length: n }, (_, i) => (i % 2 ? `g_${randomOf(26)}` : `d_${randomOf(32)}`));

/** The ids of Conversation objects that have storage now. */
const stored = async () => new Set((await listDurableObjectIds(env.CONVERSATION)).map((id) => id.toString()));
const objectId = (tenantId: string, id: string) => env.CONVERSATION.idFromName(`${tenantId}:${id}`).toString();

describe("conversation ids a client names", () => {
  it("unknown ids over HTTP and in socket frames answer like a non-member's and leave no Conversation object behind", async () => {
    const tenant = await createTenant();
    const t = tenant.slug;
    const [a, b, outsider] = [await registerUser(t), await registerUser(t), await registerUser(t)];
    await befriend(t, a, b);
    const created = await call("/v1/conversations", {
      method: "POST",
      ...as(t, a),
      json: { type: "direct", userId: b.userId },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id: real } = await created.json<{ id: string }>();
    const ids = randomIds(21);

    for (const id of ids.slice(0, 11))
      await expectProblem(await call(`/v1/conversations/${id}`, as(t, a)), 404, "conversation_not_found");
    const [one] = ids;
    const routes: [string, string, unknown?][] = [
      ["POST", `/v1/conversations/${one}/messages`, { clientId: "c1", body: { text: "hi" } }],
      ["GET", `/v1/conversations/${one}/messages`],
      ["POST", `/v1/conversations/${one}/read`, { seq: 1 }],
      ["PATCH", `/v1/conversations/${one}/messages/m1`, { body: { text: "edited" } }],
      ["DELETE", `/v1/conversations/${one}/messages/m1`],
      ["GET", `/v1/conversations/${one}/files/f1`],
      ["PATCH", `/v1/conversations/${one}`, { name: "renamed" }],
      ["POST", `/v1/conversations/${one}/members`, { userIds: [b.userId] }],
      ["PATCH", `/v1/conversations/${one}/members/me`, { muted: true }],
      ["DELETE", `/v1/conversations/${one}/members/me`],
    ];
    for (const [method, path, json] of routes)
      await expectProblem(await call(path, { method, ...as(t, a), json }), 404, "conversation_not_found");
    // A real conversation the caller is not in answers the same: no oracle for which ids exist.
    await expectProblem(await call(`/v1/conversations/${real}`, as(t, outsider)), 404, "conversation_not_found");

    const sock = await connect(t, { token: a.tokens.accessToken });
    const rest = ids.slice(11);
    sock.send({ type: "sync", cursors: Object.fromEntries([...rest, real].map((id) => [id, 0])) });
    const synced = await sock.frame("synced");
    expect(synced.cursors).toEqual({ [real]: 0 });
    const refused = sock.frames.filter((f) => f.type === "error").map((f) => [f.conversationId, f.code]);
    expect(refused).toEqual(rest.map((id) => [id, "conversation_not_found"]));
    const last = ids[ids.length - 1]!;
    for (const frame of [
      { type: "send", clientId: "s1", conversationId: last, body: { text: "hi" } },
      { type: "read", conversationId: last, seq: 1 },
      { type: "typing", conversationId: last },
      { type: "edit", conversationId: last, messageId: "m1", body: { text: "x" }, clientId: "e1" },
      { type: "recall", conversationId: last, messageId: "m1" },
    ])
      sock.send(frame);
    await sock.until(
      () => sock.frames.filter((f) => f.type === "error").length === rest.length + 5,
      "five more errors",
    );
    expect(sock.frames.filter((f) => f.type === "error").slice(rest.length)).toEqual([
      {
        type: "error",
        code: "conversation_not_found",
        message: "No such conversation.",
        clientId: "s1",
        conversationId: last,
      },
      { type: "error", code: "conversation_not_found", message: "No such conversation.", conversationId: last },
      { type: "error", code: "conversation_not_found", message: "No such conversation.", conversationId: last },
      {
        type: "error",
        code: "conversation_not_found",
        message: "No such conversation.",
        clientId: "e1",
        conversationId: last,
      },
      { type: "error", code: "conversation_not_found", message: "No such conversation.", conversationId: last },
    ]);
    // The member's own conversation still works on the same socket and over HTTP.
    sock.send({ type: "send", clientId: "s2", conversationId: real, body: { text: "hello" } });
    expect(await sock.frame("ack")).toMatchObject({ conversationId: real, seq: 1 });
    expect((await call(`/v1/conversations/${real}`, as(t, b))).status).toBe(200);
    sock.ws.close();

    const objects = await stored();
    expect(objects.has(objectId(tenant.id, real)), "the listing sees the conversation that exists").toBe(true);
    expect(ids.filter((id) => objects.has(objectId(tenant.id, id)))).toEqual([]);
  });
});
