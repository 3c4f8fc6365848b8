import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { platformDb } from "../../src/db/client";
import { tenantDb } from "../../src/db/tenant-db";
import { signToken } from "../../src/lib/jwt";
import { audienceOf, issuerOf, tenantKeys } from "../../src/workers/tenancy/signing-keys";
import { resolveTenant } from "../../src/workers/tenancy/tenant-cache";
import { bearer, registerUser, as, befriend, secondDevice } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";
import { connect, readMarker, type Sock } from "./socket-helpers";

type U = Awaited<ReturnType<typeof registerUser>>;

async function group(t: string, owner: U, members: U[]): Promise<string> {
  const res = await call("/v1/conversations", {
    method: "POST",
    ...as(t, owner),
    json: { type: "group", name: "crew", memberIds: members.map((m) => m.userId) },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

async function direct(t: string, a: U, b: U): Promise<string> {
  await befriend(t, a, b);
  const res = await call("/v1/conversations", {
    method: "POST",
    ...as(t, a),
    json: { type: "direct", userId: b.userId },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

const text = (i: number) => ({ text: `m${i}` });
const sync = async (s: Sock, cursors: Record<string, number>) => {
  const before = s.frames.filter((f) => f.type === "synced").length;
  s.send({ type: "sync", cursors });
  await s.until(() => s.frames.filter((f) => f.type === "synced").length > before, "synced");
};

describe("connecting", () => {
  it("tickets are one-time and bound to their tenant; no credential is 401, never 101", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const res = await call("/v1/realtime/tickets", { method: "POST", ...as(t.slug, u) });
    expect(res.status).toBe(201);
    const { ticket, expiresIn } = await res.json<{ ticket: string; expiresIn: number }>();
    expect(expiresIn).toBe(30);
    const s = await connect(t.slug, { ticket });
    s.send({ type: "ping" });
    await s.frame("pong");
    const up = { upgrade: "websocket" };
    await expectProblem(
      await call(`/v1/realtime?ticket=${ticket}`, { tenant: t.slug, headers: up }),
      401,
      "ticket_used",
    );
    await expectProblem(await call("/v1/realtime", { tenant: t.slug, headers: up }), 401, "unauthenticated");
    await expectProblem(
      await call("/v1/realtime?ticket=not.a.jwt", { tenant: t.slug, headers: up }),
      401,
      "invalid_token",
    );
    // An access token is not a ticket, and a ticket is not an access token.
    await expectProblem(
      await call(`/v1/realtime?ticket=${u.tokens.accessToken}`, { tenant: t.slug, headers: up }),
      401,
      "invalid_token",
    );
    const t2 = (
      await (await call("/v1/realtime/tickets", { method: "POST", ...as(t.slug, u) })).json<{ ticket: string }>()
    ).ticket;
    await expectProblem(await call("/v1/me", { tenant: t.slug, headers: bearer(t2) }), 401, "invalid_token");
    // Another tenant does not accept this tenant's ticket or token.
    const other = await createTenant();
    await expectProblem(
      await call(`/v1/realtime?ticket=${t2}`, { tenant: other.slug, headers: up }),
      401,
      "invalid_token",
    );
    await expectProblem(
      await call("/v1/realtime", { tenant: other.slug, headers: { ...up, ...bearer(u.tokens.accessToken) } }),
      401,
      "invalid_token",
    );
    // The unused ticket still works where it belongs.
    await connect(t.slug, { ticket: t2 });
  });

  it("a browser's upgrade names its tenant with ?tenant= (sockets cannot send X-Tenant); nothing else does", async () => {
    const t = await createTenant();
    const other = await createTenant();
    const u = await registerUser(t.slug);
    const ticket = async () =>
      (await (await call("/v1/realtime/tickets", { method: "POST", ...as(t.slug, u) })).json<{ ticket: string }>())
        .ticket;
    const up = { upgrade: "websocket" };
    const res = await call(`/v1/realtime?ticket=${await ticket()}&tenant=${t.slug}`, { headers: up });
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close(1000, "done");
    // Another tenant's name does not make this tenant's ticket good there.
    await expectProblem(
      await call(`/v1/realtime?ticket=${await ticket()}&tenant=${other.slug}`, { headers: up }),
      401,
      "invalid_token",
    );
    // A header names the tenant first: ?tenant= cannot steer a request that carries one.
    await expectProblem(
      await call(`/v1/realtime?ticket=${await ticket()}&tenant=${t.slug}`, { tenant: other.slug, headers: up }),
      401,
      "invalid_token",
    );
    // An ordinary request does not take its tenant from the query.
    await expectProblem(
      await call(`/v1/me?tenant=${t.slug}`, { headers: bearer(u.tokens.accessToken) }),
      404,
      "tenant_not_found",
    );
    await expectProblem(
      await call(`/v1/realtime?ticket=x&tenant=NOT%20A%20SLUG`, { headers: up }),
      404,
      "tenant_not_found",
    );
  });

  it("an expired ticket is refused", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const tenant = (await resolveTenant(env, () => platformDb(env), t.slug))!;
    const keys = await tenantKeys({ env, tenant, db: tenantDb(tenant.db) });
    const claims = { sub: u.userId, tid: t.id, sid: u.tokens.sessionId };
    const opts = { issuer: issuerOf(tenant), audience: audienceOf(tenant), ttlSeconds: 30 };
    const old = await signToken(keys.signer, "ticket", claims, { ...opts, now: Date.now() - 60_000 });
    const body = await expectProblem(
      await call(`/v1/realtime?ticket=${old}`, { tenant: t.slug, headers: { upgrade: "websocket" } }),
      401,
      "invalid_token",
    );
    expect(body.detail).toContain("expired");
    await connect(t.slug, { ticket: await signToken(keys.signer, "ticket", claims, opts) });
  });

  it("checks the browser Origin against the tenant's allowlist", async () => {
    const t = await createTenant({ config: { allowedOrigins: ["https://app.example.com"] } });
    const u = await registerUser(t.slug);
    const h = { upgrade: "websocket", ...bearer(u.tokens.accessToken) };
    await expectProblem(
      await call("/v1/realtime", { tenant: t.slug, headers: { ...h, origin: "https://evil.example" } }),
      403,
      "origin_not_allowed",
    );
    await connect(t.slug, { token: u.tokens.accessToken }, { origin: "https://app.example.com" });
  });

  it("client identity headers cannot be forged; a revoked session's token cannot connect", async () => {
    const t = await createTenant();
    const [a, b, c] = [await registerUser(t.slug), await registerUser(t.slug), await registerUser(t.slug)];
    const s = await connect(
      t.slug,
      { token: a.tokens.accessToken },
      {
        "x-canopy-gw-user": b.userId,
        "x-canopy-gw-session": b.tokens.sessionId,
        "x-canopy-gw-index": "3",
      },
    );
    // The socket is a's, not b's: a message in a group of a and c (b not in it) reaches it.
    const id = await group(t.slug, a, [c]);
    await call(`/v1/conversations/${id}/messages`, {
      method: "POST",
      ...as(t.slug, c),
      json: { clientId: "c1", body: text(1) },
    });
    await s.until(() => s.messages(id).length === 1, "message");
    expect((await call("/v1/auth/logout", { method: "POST", ...as(t.slug, a) })).status).toBeLessThan(300);
    await expectProblem(
      await call("/v1/realtime", {
        tenant: t.slug,
        headers: { upgrade: "websocket", ...bearer(a.tokens.accessToken) },
      }),
      401,
      "session_revoked",
    );
  });
});

describe("frames", () => {
  it("malformed frames get an error frame and the socket stays up; oversized frames close with 1009", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const s = await connect(t.slug, { token: u.tokens.accessToken });
    s.send("not json");
    await s.until(() => s.frames.filter((f) => f.type === "error").length === 1);
    s.send({ type: "dance" });
    s.send({ type: "send", clientId: "x1", conversationId: "g_nope", body: text(1) });
    s.send({
      type: "send",
      clientId: "x2",
      conversationId: "g_0123456789abcdefghjkmnpqrs",
      kind: "text",
      body: { text: "" },
    });
    s.send({ type: "send", clientId: "x3", conversationId: "g_0123456789abcdefghjkmnpqrs", body: text(1) });
    await s.until(() => s.frames.filter((f) => f.type === "error").length === 5, "5 errors");
    const errors = s.frames.filter((f) => f.type === "error");
    expect(errors.map((e) => e.code)).toEqual([
      "invalid_frame",
      "invalid_frame",
      "invalid_frame",
      "invalid_frame",
      "conversation_not_found",
    ]);
    expect(errors.slice(2).map((e) => e.clientId)).toEqual(["x1", "x2", "x3"]);
    s.send({ type: "ping" });
    await s.frame("pong");
    s.send(JSON.stringify({ type: "ping", pad: "x".repeat(70 * 1024) }));
    expect((await s.closed()).code).toBe(1009);
  });

  it("a burst past the frame budget is refused frame by frame (rate_limited, with clientId and retryAfterMs), never closed; retried, every send is stored once", async () => {
    const t = await createTenant();
    const [u, v] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await group(t.slug, u, [v]);
    const s = await connect(t.slug, { token: u.tokens.accessToken });
    const sendOf = (i: number) => ({ type: "send", clientId: `burst-${i}`, conversationId: id, body: text(i) });
    // A reconnect replaying 150 queued sends at once: the budget is 100 at once, 20 a second.
    for (let i = 1; i <= 150; i++) s.send(sendOf(i));
    const answered = () => s.frames.filter((f) => f.type === "ack" || f.code === "rate_limited");
    await s.until(() => answered().length === 150, "an answer to each of the 150");
    const refused = s.frames.filter((f) => f.code === "rate_limited");
    expect(refused.length).toBeGreaterThan(0);
    expect(s.frames.filter((f) => f.type === "ack").length).toBeGreaterThanOrEqual(100);
    for (const f of refused) {
      expect(f).toMatchObject({ type: "error", clientId: expect.stringMatching(/^burst-/) });
      expect(f.retryAfterMs).toBeGreaterThan(0);
      expect(f.retryAfterMs).toBeLessThanOrEqual(50);
    }
    // Retried as the server says (each after its retryAfterMs), until every send is acked.
    let pending = refused.map((f) => Number(String(f.clientId).slice("burst-".length)));
    for (let round = 0; pending.length && round < 20; round++) {
      const before = s.frames.length;
      for (const i of pending) {
        await new Promise((r) => setTimeout(r, 55));
        s.send(sendOf(i));
      }
      await s.until(
        () =>
          s.frames.slice(before).filter((f) => f.type === "ack" || f.code === "rate_limited").length === pending.length,
        "answers to the retries",
      );
      pending = s.frames
        .slice(before)
        .filter((f) => f.code === "rate_limited")
        .map((f) => Number(String(f.clientId).slice("burst-".length)));
    }
    expect(pending).toEqual([]);
    const acked = new Set(s.frames.filter((f) => f.type === "ack").map((f) => f.clientId));
    expect(acked.size).toBe(150);
    const seqs = s.frames.filter((f) => f.type === "ack").map((f) => f.seq as number);
    expect(new Set(seqs).size).toBe(150);
    expect(Math.max(...seqs)).toBe(150);
    s.send({ type: "ping" });
    await s.frame("pong");
  });

  it("sustained abuse (ten times the rate for five seconds) closes the socket with 1008", async () => {
    const t = await createTenant({ config: { realtime: { framesPerSecond: 2, frameBurst: 2 } } });
    const u = await registerUser(t.slug);
    const s = await connect(t.slug, { token: u.tokens.accessToken });
    // 2 a second: more than 9 × 2 × 5 = 90 refused within 5 s is abuse.
    for (let i = 0; i < 120; i++) s.send({ type: "typing", conversationId: "g_0123456789abcdefghjkmnpqrs" });
    expect((await s.closed()).code).toBe(1008);
    expect(s.frames.filter((f) => f.code === "rate_limited").length).toBeGreaterThanOrEqual(80);
  });
});

describe("delivery", () => {
  it("two devices per user and a third member get every message in order; the sender gets acks with seq", async () => {
    const t = await createTenant();
    const [a, b, c] = [await registerUser(t.slug), await registerUser(t.slug), await registerUser(t.slug)];
    const id = await group(t.slug, a, [b, c]);
    const a2 = await secondDevice(t.slug, a);
    const b2 = await secondDevice(t.slug, b);
    const [sa1, sa2, sb1, sb2, sc] = await Promise.all([
      connect(t.slug, { token: a.tokens.accessToken }),
      connect(t.slug, { token: a2.accessToken }),
      connect(t.slug, { token: b.tokens.accessToken }),
      connect(t.slug, { token: b2.accessToken }),
      connect(t.slug, { token: c.tokens.accessToken }),
    ]);
    // Concurrent senders on three sockets.
    for (let i = 1; i <= 10; i++) {
      sa1.send({ type: "send", clientId: `a${i}`, conversationId: id, body: text(i) });
      sb1.send({ type: "send", clientId: `b${i}`, conversationId: id, kind: "custom", body: { n: i } });
      sc.send({ type: "send", clientId: `c${i}`, conversationId: id, body: text(100 + i) });
    }
    await sa1.until(() => sa1.frames.filter((f) => f.type === "ack").length === 10, "10 acks");
    const acks = sa1.frames.filter((f) => f.type === "ack");
    expect(acks.map((f) => f.clientId)).toEqual(Array.from({ length: 10 }, (_, i) => `a${i + 1}`));
    for (const ack of acks)
      expect(ack).toMatchObject({ conversationId: id, seq: expect.any(Number), messageId: expect.any(String) });
    const all = Array.from({ length: 30 }, (_, i) => i + 1);
    // Every device but the sending one sees each message; each in seq order with no gap.
    await sb2.until(() => sb2.messages(id).length === 30, "sb2 all");
    await sa2.until(() => sa2.messages(id).length === 30, "sa2 all");
    expect(sa2.messages(id).map((f) => f.seq)).toEqual(all);
    expect(sb2.messages(id).map((f) => f.seq)).toEqual(all);
    await sa1.until(() => sa1.messages(id).length === 20, "sa1: others' messages");
    expect(sa1.messages(id).every((f) => f.senderId !== a.userId)).toBe(true);
    await sc.until(() => sc.messages(id).length === 20, "sc: others' messages");
    const seqsOf = (s: Sock) => s.messages(id).map((f) => f.seq as number);
    for (const s of [sa1, sb1, sc]) expect(seqsOf(s)).toEqual([...seqsOf(s)].sort((x, y) => x - y));
    const m = sb2.messages(id).find((f) => f.senderId === b.userId)!;
    expect(m).toMatchObject({
      type: "message",
      kind: "custom",
      body: { n: 1 },
      sentAt: expect.any(String),
      messageId: expect.any(String),
    });
    expect(sa2.messages(id).find((f) => f.senderId === a.userId)).toMatchObject({ kind: "text", body: { text: "m1" } });
  });

  it("a retried clientId is stored once and acked with the original seq", async () => {
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await direct(t.slug, a, b);
    const [sa, sb] = await Promise.all([
      connect(t.slug, { token: a.tokens.accessToken }),
      connect(t.slug, { token: b.tokens.accessToken }),
    ]);
    for (let i = 0; i < 3; i++) sa.send({ type: "send", clientId: "same", conversationId: id, body: text(1) });
    await sa.until(() => sa.frames.filter((f) => f.type === "ack").length === 3, "3 acks");
    expect(new Set(sa.frames.filter((f) => f.type === "ack").map((f) => `${f.seq}/${f.messageId}`)).size).toBe(1);
    const http = await call(`/v1/conversations/${id}/messages`, {
      method: "POST",
      ...as(t.slug, a),
      json: { clientId: "same", body: text(1) },
    });
    expect(http.status).toBe(200);
    expect(await http.json()).toMatchObject({ seq: 1 });
    sa.send({ type: "send", clientId: "next", conversationId: id, body: text(2) });
    await sb.until(() => sb.messages(id).length === 2, "2 messages");
    expect(sb.messages(id).map((f) => f.seq)).toEqual([1, 2]);
  });

  it("sync after a drop returns exactly the missed messages, then live traffic; far behind gets a marker", async () => {
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await direct(t.slug, a, b);
    const post = (i: number) =>
      call(`/v1/conversations/${id}/messages`, {
        method: "POST",
        ...as(t.slug, a),
        json: { clientId: `k${i}`, body: text(i) },
      });
    let sb = await connect(t.slug, { token: b.tokens.accessToken });
    for (let i = 1; i <= 3; i++) await post(i);
    await sb.until(() => sb.messages(id).length === 3, "3 live");
    sb.ws.close(1000, "drop");
    for (let i = 4; i <= 7; i++) await post(i);
    sb = await connect(t.slug, { token: b.tokens.accessToken });
    // Live traffic racing the sync is neither lost nor doubled.
    const racing = Promise.all([8, 9].map(post));
    await sync(sb, { [id]: 3 });
    await racing;
    await sb.until(() => sb.messages(id).length === 6, "4..9");
    // A doubled 8 or 9 would be written before b's read frame for 9 (same chain into b's hub).
    await readMarker(t.slug, b, id, 9, [sb]);
    expect(sb.messages(id).map((f) => f.seq)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(sb.frames.find((f) => f.type === "synced")).toMatchObject({ cursors: { [id]: expect.any(Number) } });
    // Up to date: nothing; unknown conversations: an error frame, the rest still answered.
    await sync(sb, { [id]: 9, g_0123456789abcdefghjkmnpqrs: 0 });
    expect(sb.frames.filter((f) => f.type === "error").map((f) => f.conversationId)).toEqual([
      "g_0123456789abcdefghjkmnpqrs",
    ]);
    expect(sb.messages(id)).toHaveLength(6);
    for (let i = 10; i <= 211; i++) await post(i);
    const sc = await connect(t.slug, { token: b.tokens.accessToken });
    await sync(sc, { [id]: 5 });
    expect(sc.frames.find((f) => f.type === "sync_truncated")).toEqual({
      type: "sync_truncated",
      conversationId: id,
      fromSeq: 6,
      latestSeq: 211,
    });
    expect(sc.messages(id)).toHaveLength(0);
  }, 60_000);

  it("a block made after the hubs learned the conversation's peer still stops sends both ways; unblocking leaves them strangers until befriended again", async () => {
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await direct(t.slug, a, b);
    const [sa, sb] = await Promise.all([
      connect(t.slug, { token: a.tokens.accessToken }),
      connect(t.slug, { token: b.tokens.accessToken }),
    ]);
    for (const s of [sa, sb]) s.send({ type: "presence_sync" });
    sa.send({ type: "send", clientId: "a1", conversationId: id, body: text(1) });
    sb.send({ type: "send", clientId: "b1", conversationId: id, body: text(2) });
    await Promise.all([sa.frame("ack"), sb.frame("ack")]);
    expect((await call(`/v1/blocks/${a.userId}`, { method: "PUT", ...as(t.slug, b) })).status).toBeLessThan(300);
    sa.send({ type: "send", clientId: "a2", conversationId: id, body: text(3) });
    sb.send({ type: "send", clientId: "b2", conversationId: id, body: text(4) });
    expect(await sa.frame("error")).toMatchObject({ code: "user_blocked", clientId: "a2" });
    expect(await sb.frame("error")).toMatchObject({ code: "user_blocked", clientId: "b2" });
    expect((await call(`/v1/blocks/${a.userId}`, { method: "DELETE", ...as(t.slug, b) })).status).toBeLessThan(300);
    // The block ended the friendship: the rule of creating a direct conversation (friends only by default) applies.
    sa.send({ type: "send", clientId: "a3", conversationId: id, body: text(5) });
    expect(await sa.frame("error", (f) => f.clientId === "a3")).toMatchObject({ code: "not_friends" });
    await befriend(t.slug, a, b);
    sa.send({ type: "send", clientId: "a4", conversationId: id, body: text(6) });
    expect(await sa.frame("ack", (f) => f.clientId === "a4")).toMatchObject({ seq: 3 });
  });

  it("non-members and blocked users are refused; blocks stop delivery both ways", async () => {
    const t = await createTenant();
    const [a, b, x] = [await registerUser(t.slug), await registerUser(t.slug), await registerUser(t.slug)];
    const id = await direct(t.slug, a, b);
    const sx = await connect(t.slug, { token: x.tokens.accessToken });
    sx.send({ type: "send", clientId: "intrude", conversationId: id, body: text(1) });
    expect(await sx.frame("error")).toMatchObject({ code: "conversation_not_found", clientId: "intrude" });
    const [sa, sb] = await Promise.all([
      connect(t.slug, { token: a.tokens.accessToken }),
      connect(t.slug, { token: b.tokens.accessToken }),
    ]);
    expect((await call(`/v1/blocks/${a.userId}`, { method: "PUT", ...as(t.slug, b) })).status).toBeLessThan(300);
    sa.send({ type: "send", clientId: "a1", conversationId: id, body: text(1) });
    sb.send({ type: "send", clientId: "b1", conversationId: id, body: text(1) });
    expect(await sa.frame("error")).toMatchObject({ code: "user_blocked", clientId: "a1" });
    expect(await sb.frame("error")).toMatchObject({ code: "user_blocked", clientId: "b1" });
    expect(sa.messages(id).length + sb.messages(id).length).toBe(0);
    // Another tenant's user cannot reach the conversation by id either.
    const other = await createTenant();
    const o = await registerUser(other.slug);
    const so = await connect(other.slug, { token: o.tokens.accessToken });
    so.send({ type: "send", clientId: "o1", conversationId: id, body: text(1) });
    expect(await so.frame("error")).toMatchObject({ code: "conversation_not_found" });
  });

  it("a revoked session's sockets get a closed frame and close with 4001; other devices stay", async () => {
    const t = await createTenant();
    const a = await registerUser(t.slug);
    const a2 = await secondDevice(t.slug, a);
    const [s1, s2] = await Promise.all([
      connect(t.slug, { token: a.tokens.accessToken }),
      connect(t.slug, { token: a2.accessToken }),
    ]);
    expect((await call(`/v1/auth/sessions/${a2.sessionId}`, { method: "DELETE", ...as(t.slug, a) })).status).toBe(204);
    expect(await s2.frame("closed")).toEqual({ type: "closed", reason: "revoked" });
    expect((await s2.closed()).code).toBe(4001);
    s1.send({ type: "ping" });
    await s1.frame("pong");
  });

  it("read receipts reach members' devices; typing is forwarded to others and throttled", async () => {
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await direct(t.slug, a, b);
    const [sa, sb] = await Promise.all([
      connect(t.slug, { token: a.tokens.accessToken }),
      connect(t.slug, { token: b.tokens.accessToken }),
    ]);
    sa.send({ type: "send", clientId: "1", conversationId: id, body: text(1) });
    await sb.until(() => sb.messages(id).length === 1);
    sb.send({ type: "read", conversationId: id, seq: 5 });
    expect(await sa.frame("read")).toEqual({ type: "read", conversationId: id, userId: b.userId, seq: 1 });
    sb.send({ type: "typing", conversationId: id });
    sb.send({ type: "typing", conversationId: id });
    expect(await sa.frame("typing")).toEqual({ type: "typing", conversationId: id, userId: b.userId });
    // The marker: b's next message reaches the conversation after both typing frames (one socket,
    // one hub, in order), and a's read of it goes to both members after anything the typing sent.
    sb.send({ type: "send", clientId: "2", conversationId: id, body: text(2) });
    expect(await sb.frame("ack")).toMatchObject({ clientId: "2", seq: 2 });
    await readMarker(t.slug, a, id, 2, [sa, sb]);
    expect(sa.frames.filter((f) => f.type === "typing")).toHaveLength(1);
    expect(sb.frames.filter((f) => f.type === "typing")).toHaveLength(0);
  });
});
