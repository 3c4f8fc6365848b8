import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  createClient,
  fetchUpgrade,
  memoryStorage,
  type MessageFrame,
  type RealtimeEvents,
  type TokenStorage,
} from "../../sdk/src/index";
import { registerUser } from "./auth-helpers";
import { createTenant } from "./helpers";
import { group } from "./socket-helpers";

type U = Awaited<ReturnType<typeof registerUser>>;

/** An SDK client of `u` on the Worker's own fetch (sockets through it too), signed in. */
async function signedIn(tenant: string, u: U, storage: TokenStorage = memoryStorage(), framesPerSecond = 20) {
  const ip = `10.8.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  const fetch = (req: Request) => {
    const r = new Request(req);
    r.headers.set("cf-connecting-ip", ip);
    r.headers.set("x-tenant", tenant);
    return exports.default.fetch(r);
  };
  const c = createClient({
    baseUrl: "http://api.test",
    tenant,
    storage,
    device: { id: `dev-${crypto.randomUUID().slice(0, 8)}`, platform: "web" },
    fetch,
    realtime: { opener: fetchUpgrade(fetch), backoff: { baseMs: 20, maxMs: 200 }, framesPerSecond },
  });
  if (!(await c.auth.sessionId())) await c.auth.signIn({ identifier: u.username, password: u.password });
  const events: RealtimeEvents["connection"][] = [];
  c.realtime.on("connection", (e) => events.push(e));
  const messages: MessageFrame[] = [];
  c.realtime.on("message", (m) => messages.push(m));
  return { c, events, messages, opens: () => events.filter((e) => e.state === "open").length };
}

async function until<T>(probe: () => T | undefined | false, what: string, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A tenant, two users in a group, each with a signed-in client; B's client resumes the group. */
async function pair(storageB: TokenStorage = memoryStorage(), framesPerSecondB = 20) {
  const t = await createTenant();
  const [ua, ub] = [await registerUser(t.slug), await registerUser(t.slug)];
  const gid = await group(t.slug, ua, [ub]);
  const a = await signedIn(t.slug, ua);
  const b = await signedIn(t.slug, ub, storageB, framesPerSecondB);
  await b.c.realtime.track(gid);
  return { t, ua, ub, gid, a, b };
}

const seqsOf = (ms: MessageFrame[], conversationId: string) =>
  ms.filter((m) => m.conversationId === conversationId).map((m) => m.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("SDK realtime", () => {
  it("a two-client conversation survives the server dropping a socket mid-stream: no loss, no duplicate", async () => {
    // B's client does not pace its frames, so the server's abuse line can close its socket.
    const { gid, a, b } = await pair(memoryStorage(), 100_000);
    await Promise.all([a.c.realtime.connect(), b.c.realtime.connect()]);
    await until(() => a.opens() && b.opens(), "both open");

    const sends = Array.from({ length: 40 }, (_, i) => a.c.realtime.send(gid, { text: `m${i + 1}` }));
    await until(() => b.messages.length >= 10, "the first messages");
    // Far more frames than the tenant's budget (100 at once, 20 a second): past 900 refused
    // within 5 s the server closes B's socket (1008).
    for (let i = 0; i < 1200; i++) b.c.realtime.typing(gid);
    const acks = await Promise.all(sends);
    expect(acks.map((x) => x.seq)).toEqual(range(1, 40));
    await until(() => b.opens() >= 2 && b.messages.length >= 40, "B reconnected and caught up");
    expect(seqsOf(b.messages, gid)).toEqual(range(1, 40));
    expect(b.messages.map((m) => (m.body as { text: string }).text)).toEqual(range(1, 40).map((i) => `m${i}`));
    // A's own sends come back as acks, never as messages.
    expect(a.messages).toEqual([]);
    expect(a.opens()).toBe(1); // A's 40 sends were paced under the cap: never closed
    a.c.realtime.disconnect();
    b.c.realtime.disconnect();
  });

  it("sends made offline wait in the queue and go out after the reconnect, acked in order", async () => {
    const { gid, a, b } = await pair();
    await b.c.realtime.connect();
    await until(() => b.opens(), "B open");
    let settled = 0;
    const sends = [1, 2, 3].map((i) =>
      a.c.realtime.send(gid, { text: `offline ${i}` }).finally(() => {
        settled++;
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(0); // not connected: queued
    await a.c.realtime.connect();
    expect((await Promise.all(sends)).map((x) => x.seq)).toEqual([1, 2, 3]);
    await until(() => b.messages.length >= 3, "B got the queued messages");
    expect(seqsOf(b.messages, gid)).toEqual([1, 2, 3]);
    a.c.realtime.disconnect();
    b.c.realtime.disconnect();
  });

  it("a burst of 150 offline sends, unpaced, after the reconnect: no close; refusals retried after retryAfterMs; each stored once, in order", async () => {
    // A's client does not pace (as a client with a bigger idea of the rate would not): the server's
    // budget (100 at once, 20 a second) refuses the rest frame by frame, and the SDK retries them.
    const t = await createTenant();
    const [ua, ub] = [await registerUser(t.slug), await registerUser(t.slug)];
    const gid = await group(t.slug, ua, [ub]);
    const a = await signedIn(t.slug, ua, memoryStorage(), 100_000);
    const b = await signedIn(t.slug, ub);
    await b.c.realtime.track(gid);
    await b.c.realtime.connect();
    const sends = range(1, 150).map((i) => a.c.realtime.send(gid, { text: `q${i}` }));
    await a.c.realtime.connect();
    const acks = await Promise.all(sends);
    expect(new Set(acks.map((x) => x.seq)).size).toBe(150);
    await until(() => b.messages.length >= 150, "B got all 150", 15_000);
    expect(seqsOf(b.messages, gid)).toEqual(range(1, 150));
    // One socket all along: the burst closed nothing.
    expect(a.opens()).toBe(1);
    expect(a.events.filter((e) => e.state === "closed")).toEqual([]);
    a.c.realtime.disconnect();
    b.c.realtime.disconnect();
  });

  it("a resume too far behind is paged over HTTP, then live traffic follows, each message once", async () => {
    const { gid, a, b } = await pair();
    // B is offline while more than a sync answers (200) is sent (over HTTP: a socket may send 20
    // frames a second): B's resume gets sync_truncated and pages the rest.
    const post = (text: string) =>
      a.c.api.POST("/v1/conversations/{id}/messages", {
        params: { path: { id: gid } },
        body: { clientId: crypto.randomUUID(), kind: "text", body: { text } },
      });
    for (let i = 0; i < 230; i += 10) await Promise.all(range(i + 1, i + 10).map((n) => post(`o${n}`)));
    await b.c.realtime.connect();
    await until(() => b.messages.length >= 230, "B paged what it missed");
    await post("live");
    await until(() => b.messages.length >= 231, "the live message");
    expect(seqsOf(b.messages, gid)).toEqual(range(1, 231));
    b.c.realtime.disconnect();
  });

  it("a forged access token at the upgrade is refreshed once; a forged refresh token signs out without a retry loop", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const storage = memoryStorage();
    const first = await signedIn(t.slug, u, storage);
    const session = JSON.parse(String(await storage.get("session")));
    // The same session with a forged access token: the upgrade answers 401, one refresh, then open.
    await storage.set(
      "session",
      JSON.stringify({ ...session, accessToken: `${session.accessToken.slice(0, -4)}AAAA` }),
    );
    const forged = await signedIn(t.slug, u, storage);
    await forged.c.realtime.connect();
    await until(() => forged.opens(), "open after the refresh");
    forged.c.realtime.disconnect();
    first.c.realtime.disconnect();

    // A forged refresh token as well: the refresh is refused, the client signs out and stops.
    const bad = memoryStorage();
    const now = JSON.parse(String(await storage.get("session")));
    await bad.set(
      "session",
      JSON.stringify({
        ...now,
        accessToken: `${now.accessToken.slice(0, -4)}AAAA`,
        refreshToken: `${now.refreshToken.slice(0, -4)}AAAA`,
      }),
    );
    const lost = await signedIn(t.slug, u, bad);
    const signedOut: unknown[] = [];
    lost.c.auth.on("signedOut", (e) => signedOut.push(e));
    await lost.c.realtime.connect();
    await until(() => lost.events.some((e) => e.final), "the connection ended");
    await new Promise((r) => setTimeout(r, 200));
    expect(signedOut).toEqual([{ reason: "refused", code: "invalid_refresh_token" }]);
    expect(lost.events.filter((e) => e.state === "connecting")).toHaveLength(1);
    expect(lost.c.realtime.state).toBe("closed");
  });

  it("resumes from persisted cursors in a new client, and a revoked session ends in one signedOut", async () => {
    const storage = memoryStorage();
    const { t, ua, ub, gid, a, b } = await pair(storage);
    await Promise.all([a.c.realtime.connect(), b.c.realtime.connect()]);
    await until(() => a.opens() && b.opens(), "both open");
    for (let i = 1; i <= 3; i++) await a.c.realtime.send(gid, { text: `seen ${i}` });
    await until(() => b.messages.length >= 3, "B saw three");
    b.c.realtime.disconnect();
    for (let i = 4; i <= 5; i++) await a.c.realtime.send(gid, { text: `missed ${i}` });
    // Another client on B's storage (a restarted app): only what it missed.
    const b2 = await signedIn(t.slug, ub, storage);
    await b2.c.realtime.connect();
    await until(() => b2.messages.length >= 2, "B's new client caught up");
    await new Promise((r) => setTimeout(r, 100));
    expect(seqsOf(b2.messages, gid)).toEqual([4, 5]);

    // A's session revoked elsewhere: the socket closes (4001), one signedOut, no reconnecting.
    const signedOut: unknown[] = [];
    a.c.auth.on("signedOut", (e) => signedOut.push(e));
    const res = await exports.default.fetch(
      new Request("http://api.test/v1/auth/sessions/revoke-others", {
        method: "POST",
        headers: { "x-tenant": t.slug, authorization: `Bearer ${ua.tokens.accessToken}` },
      }),
    );
    expect(res.status).toBeLessThan(300);
    await until(() => a.events.some((e) => e.final), "A's connection ended");
    await new Promise((r) => setTimeout(r, 300));
    expect(signedOut).toHaveLength(1);
    expect(a.opens()).toBe(1);
    expect(a.c.realtime.state).toBe("closed");
    b2.c.realtime.disconnect();
  });
});
