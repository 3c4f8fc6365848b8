import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { SocketAttachment } from "../../src/durable/realtime/types";
import { gatewayOf } from "../../src/durable/protocol/gateways";
import { as, registerUser, secondDevice } from "./auth-helpers";
import { call, createTenant } from "./helpers";
import { connect, group, nth, readMarker } from "./socket-helpers";

/**
 * `evictDurableObject` (from @cloudflare/vitest-plugin) tears an object's instance down the way
 * the runtime does when it hibernates an idle object: in-memory state is gone, storage stays,
 * and hibernatable WebSockets stay open on the client side ("hibernate" is its default). The
 * next event (a frame from a socket, an RPC) builds a new instance from storage. It rejects when
 * the object is not running, which shows what did NOT wake it.
 */
/** The gateway holding a user's sockets (the default count of 16). */
const gatewayFor = (tenantId: string, userId: string) =>
  env.REALTIME_GATEWAY.get(env.REALTIME_GATEWAY.idFromName(`${tenantId}:gw:${gatewayOf(userId, 16)}`));
/** Evicts the gateways of these users (each once: two users may share one). */
const evictGateways = async (tenantId: string, ...userIds: string[]) => {
  for (const g of new Set(userIds.map((u) => gatewayOf(u, 16))))
    await evictDurableObject(gatewayFor(tenantId, userIds.find((u) => gatewayOf(u, 16) === g)!));
};
const conversationOf = (tenantId: string, id: string) =>
  env.CONVERSATION.get(env.CONVERSATION.idFromName(`${tenantId}:${id}`));

describe("hibernation: evicted objects, live sockets", () => {
  it("an evicted gateway delivers to its sockets, and their attachments (connection id, caps) survive", async () => {
    const t = await createTenant({ config: { realtime: { maxFrameBytes: 2048 } } });
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await group(t.slug, a, [b]);
    const a2 = await secondDevice(t.slug, a);
    const [sa, sa2, sb] = await Promise.all([
      connect(t.slug, { token: a.tokens.accessToken }),
      connect(t.slug, { token: a2.accessToken }),
      connect(t.slug, { token: b.tokens.accessToken }),
    ]);
    const gwA = gatewayFor(t.id, a.userId);
    const attachments = async () =>
      runInDurableObject(gwA, (_gw, state) =>
        state
          .getWebSockets(`u:${a.userId}`)
          .map((ws) => (ws.deserializeAttachment() as SocketAttachment).rt)
          .sort((x, y) => x.connId.localeCompare(y.connId)),
      );
    const before = await attachments();
    expect(before).toHaveLength(2);

    await evictGateways(t.id, a.userId, b.userId);
    // Delivery into an evicted gateway: the conversation's RPC wakes it; it finds the sockets again.
    const posted = await call(`/v1/conversations/${id}/messages`, {
      method: "POST",
      ...as(t.slug, b),
      json: { clientId: "b1", body: { text: "wake up" } },
    });
    expect(posted.status).toBe(201);
    await sa.until(() => sa.messages(id).length === 1, "message on sa");
    await sa2.until(() => sa2.messages(id).length === 1, "message on sa2");
    expect(await attachments()).toEqual(before);

    await evictDurableObject(gwA);
    // A frame wakes the gateway; the attachment's connId still excludes the sending socket from its own message.
    sa.send({ type: "send", clientId: "a1", conversationId: id, body: { text: "still here" } });
    const ack = await sa.frame("ack");
    await sb.until(() => sb.messages(id).some((m) => m.seq === ack.seq), "a1 on sb");
    await sa2.until(() => sa2.messages(id).some((m) => m.seq === ack.seq), "a1 on sa2");
    // a1 on sa would be written before b's read frame for it (same chain into a's gateway).
    await readMarker(t.slug, b, id, ack.seq as number, [sa]);
    expect(sa.messages(id).map((m) => m.seq)).toEqual([1]);

    // The tenant's 2 KiB cap came from the attachment, not the 64 KiB default.
    await evictDurableObject(gwA);
    sa2.send(JSON.stringify({ type: "sync", cursors: {}, pad: "x".repeat(3000) }));
    expect((await sa2.closed()).code).toBe(1009);
    // A sync from the last seen seq (1: its own message 2 only came as an ack) answers from storage.
    sa.send({ type: "sync", cursors: { [id]: 1 } });
    expect(await sa.frame("synced")).toEqual({ type: "synced", cursors: { [id]: 2 } });
    expect(sa.messages(id).map((m) => [m.seq, m.senderId])).toEqual([
      [1, b.userId],
      [2, a.userId],
    ]);
  });

  it("a ping is answered while the gateway is evicted, without waking it", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const s = await connect(t.slug, { token: u.tokens.accessToken });
    await s.frame("presence_snapshot"); // the hub's answer to the open has arrived: nothing runs on
    const gw = gatewayFor(t.id, u.userId);
    await evictDurableObject(gw);
    s.send({ type: "ping" });
    await s.frame("pong");
    // Still not running: evicting it again is refused.
    await expect(evictDurableObject(gw)).rejects.toThrow("not currently running");
    // A real frame wakes it, and it answers on the same socket.
    s.send({ type: "sync", cursors: {} });
    await s.frame("synced");
    await evictDurableObject(gw);
  });

  it("an evicted conversation continues its log from storage: gap-free seq, members, delivery", async () => {
    const t = await createTenant();
    const [a, b, c] = [await registerUser(t.slug), await registerUser(t.slug), await registerUser(t.slug)];
    const id = await group(t.slug, a, [b, c]);
    const [sa, sb, sc] = await Promise.all([
      connect(t.slug, { token: a.tokens.accessToken }),
      connect(t.slug, { token: b.tokens.accessToken }),
      connect(t.slug, { token: c.tokens.accessToken }),
    ]);
    const conv = conversationOf(t.id, id);
    for (let i = 1; i <= 3; i++) {
      sa.send({ type: "send", clientId: `m${i}`, conversationId: id, body: { text: `m${i}` } });
      await nth(sa, "ack", i);
      await evictDurableObject(conv);
      await evictDurableObject(gatewayFor(t.id, c.userId));
    }
    sb.send({ type: "send", clientId: "last", conversationId: id, body: { text: "last" } });
    await sb.frame("ack");
    await sc.until(() => sc.messages(id).length === 4, "4 on sc");
    expect(sc.messages(id).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    await sa.until(() => sa.messages(id).length === 1, "b's message on sa");
    // Its retry answer, the read cursor and the edit rules come from storage too.
    sa.send({ type: "send", clientId: "m1", conversationId: id, body: { text: "m1" } });
    expect(await nth(sa, "ack", 4)).toMatchObject({ clientId: "m1", seq: 1 });
    await evictDurableObject(conv);
    sa.send({
      type: "edit",
      conversationId: id,
      messageId: (await nth(sa, "ack", 1)).messageId,
      body: { text: "m1!" },
    });
    expect(await sa.frame("edited")).toMatchObject({ seq: 5 });
    await sc.until(() => sc.messages(id).length === 5, "edit entry on sc");
  });
});
