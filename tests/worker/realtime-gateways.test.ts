import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { gatewayOf } from "../../src/durable/protocol/gateways";
import { as, befriend, registerUser } from "./auth-helpers";
import { call, createTenant } from "./helpers";
import { connect, group, nth } from "./socket-helpers";

/**
 * Sockets live in the tenant's gateway objects (`realtime.gateways`, users hashed among them);
 * the user's hub keeps the log of which gateway holds which socket. These tests look at where
 * sockets land and what the hub's log says, through the objects themselves.
 */
const gatewayAt = (tenantId: string, n: number) =>
  env.REALTIME_GATEWAY.get(env.REALTIME_GATEWAY.idFromName(`${tenantId}:gw:${n}`));
const hubOf = (tenantId: string, userId: string) => env.USER_HUB.get(env.USER_HUB.idFromName(`${tenantId}:${userId}`));
/** The users whose sockets a gateway holds, one entry per socket. */
const holders = (tenantId: string, n: number) =>
  runInDurableObject(gatewayAt(tenantId, n), (_gw, state) =>
    state
      .getWebSockets()
      .map((ws) => (ws.deserializeAttachment() as { rt: { userId: string } }).rt.userId)
      .sort(),
  );
const logged = (tenantId: string, userId: string) =>
  runInDurableObject(hubOf(tenantId, userId), (_hub, state) =>
    state.storage.sql.exec<{ conn_id: string; gateway: number }>("SELECT conn_id, gateway FROM open_conns").toArray(),
  );

describe("gateways", () => {
  it("a user's sockets land on the gateway the tenant's count hashes them to, and every member of a group spread over them gets every message in order", async () => {
    const t = await createTenant({ config: { realtime: { gateways: 4 } } });
    const users = [];
    for (let i = 0; i < 8; i++) users.push(await registerUser(t.slug));
    const [owner, ...rest] = users;
    const id = await group(t.slug, owner!, rest);
    const socks = await Promise.all(users.map((u) => connect(t.slug, { token: u.tokens.accessToken })));
    const second = await connect(t.slug, { token: owner!.tokens.accessToken }); // a second tab of the owner
    for (const s of [...socks, second]) await s.frame("presence_snapshot");
    // Every socket is on its user's gateway, and the user's hub logged it there.
    const expected = new Map<number, string[]>();
    for (const u of users) {
      const g = gatewayOf(u.userId, 4);
      expected.set(g, [...(expected.get(g) ?? []), u.userId]);
    }
    expected.get(gatewayOf(owner!.userId, 4))!.push(owner!.userId);
    for (let g = 0; g < 4; g++) expect(await holders(t.id, g)).toEqual((expected.get(g) ?? []).sort());
    expect((await logged(t.id, owner!.userId)).map((r) => r.gateway)).toEqual([
      gatewayOf(owner!.userId, 4),
      gatewayOf(owner!.userId, 4),
    ]);
    // Messages from two senders on different gateways reach everyone, in seq order.
    for (let i = 1; i <= 3; i++) {
      socks[0]!.send({ type: "send", clientId: `a${i}`, conversationId: id, body: { text: `a${i}` } });
      socks[7]!.send({ type: "send", clientId: `h${i}`, conversationId: id, body: { text: `h${i}` } });
    }
    await nth(socks[0]!, "ack", 3);
    await nth(socks[7]!, "ack", 3);
    for (const [i, s] of [...socks, second].entries()) {
      // Senders do not get their own message on the sending socket (an ack instead).
      const want = i === 0 || i === 7 ? 3 : 6;
      await s.until(() => s.messages(id).length === want, `messages on socket ${i}`);
      const seqs = s.messages(id).map((m) => m.seq as number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(second.messages(id)).toHaveLength(6);
  });

  it("with one gateway, every socket of the tenant is in one object", async () => {
    const t = await createTenant({ config: { realtime: { gateways: 1 } } });
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await group(t.slug, a, [b]);
    const [sa, sb] = await Promise.all([
      connect(t.slug, { token: a.tokens.accessToken }),
      connect(t.slug, { token: b.tokens.accessToken }),
    ]);
    await sa.frame("presence_snapshot");
    await sb.frame("presence_snapshot");
    expect(await holders(t.id, 0)).toEqual([a.userId, b.userId].sort());
    sa.send({ type: "send", clientId: "x", conversationId: id, body: { text: "one object" } });
    await sa.frame("ack");
    await sb.until(() => sb.messages(id).length === 1, "message on b");
  });

  it("the hub closes log rows of sockets no gateway holds (a restart lost their close), and push counts the user offline", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const s = await connect(t.slug, { token: u.tokens.accessToken });
    await s.frame("presence_snapshot");
    const g = gatewayOf(u.userId, 16);
    // A row for a socket the gateway never held, and one from before gateways (no gateway named).
    await runInDurableObject(hubOf(t.id, u.userId), (_hub, state) => {
      state.storage.sql.exec(
        "INSERT INTO open_conns (conn_id, session_id, opened_at, tenant_id, gateway) VALUES ('ghost', ?, 0, ?, ?), ('old', ?, 0, ?, NULL)",
        u.tokens.sessionId,
        t.id,
        g,
        u.tokens.sessionId,
        t.id,
      );
    });
    expect(await logged(t.id, u.userId)).toHaveLength(3);
    await evictDurableObject(hubOf(t.id, u.userId));
    // The woken hub asks the gateway in the background; its answer leaves the live socket only.
    const hub = hubOf(t.id, u.userId);
    const deadline = Date.now() + 5000;
    while ((await hub.connectedDevices()) !== 1) {
      if (Date.now() > deadline) throw new Error(`rows left: ${JSON.stringify(await logged(t.id, u.userId))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await logged(t.id, u.userId)).map((r) => r.gateway)).toEqual([g]);
    s.ws.close(1000, "bye");
    while ((await hub.connectedDevices()) !== 0) {
      if (Date.now() > deadline) throw new Error("the close was not logged");
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it("a relation a gateway kept for a user's direct sends goes with the user's last socket: a block made while they were away stops the next send", async () => {
    // One gateway: A's reconnect lands on the object that kept the relation, which stays up (B's socket).
    const t = await createTenant({ config: { realtime: { gateways: 1 } } });
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    await befriend(t.slug, a, b);
    const created = await call("/v1/conversations", {
      method: "POST",
      ...as(t.slug, a),
      json: { type: "direct", userId: b.userId },
    });
    const id = (await created.json<{ id: string }>()).id;
    const sb = await connect(t.slug, { token: b.tokens.accessToken });
    sb.send({ type: "presence_sync" }); // ends the opening hold: live messages flow at once
    const first = await connect(t.slug, { token: a.tokens.accessToken });
    await first.frame("presence_snapshot");
    first.send({ type: "send", clientId: "a1", conversationId: id, body: { text: "hi" } });
    await first.frame("ack");
    await sb.until(() => sb.messages(id).length === 1, "hi on b");
    first.ws.close(1000, "away");
    // A's hub has no socket logged when B's block reaches it.
    const hub = hubOf(t.id, a.userId);
    const deadline = Date.now() + 5000;
    while ((await hub.connectedDevices()) !== 0) {
      if (Date.now() > deadline) throw new Error("the close was not logged");
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await call(`/v1/blocks/${a.userId}`, { method: "PUT", ...as(t.slug, b) })).status).toBeLessThan(300);
    const again = await connect(t.slug, { token: a.tokens.accessToken });
    await again.frame("presence_snapshot");
    again.send({ type: "send", clientId: "a2", conversationId: id, body: { text: "still there?" } });
    expect(await again.frame("error")).toMatchObject({ code: "user_blocked", clientId: "a2" });
    expect(sb.messages(id).map((m) => (m.body as { text: string }).text)).toEqual(["hi"]);
  });
});
