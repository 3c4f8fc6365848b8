import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { doName } from "../../src/durable/names";
import { bearer, registerUser, as, befriend, secondDevice } from "./auth-helpers";
import { call, createTenant } from "./helpers";

type Frame = { type: string; [k: string]: unknown };
type U = Awaited<ReturnType<typeof registerUser>>;

/** A client socket through the Worker; frames are collected as they arrive. */
async function connect(t: string, token: string) {
  const res = await call("/v1/realtime", { tenant: t, headers: { upgrade: "websocket", ...bearer(token) } });
  expect(res.status, res.status === 101 ? "" : await res.text()).toBe(101);
  const ws = res.webSocket!;
  const frames: Frame[] = [];
  ws.addEventListener("message", (e) => {
    frames.push(JSON.parse(e.data as string) as Frame);
  });
  ws.accept();
  const until = async <T>(probe: () => T | undefined | false, what: string, ms = 5000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(frames)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const presence = (userId?: string) => frames.filter((f) => f.type === "presence" && (!userId || f.userId === userId));
  return {
    ws,
    frames,
    until,
    presence,
    send: (f: unknown) => ws.send(JSON.stringify(f)),
    snapshot: () => until(() => frames.find((f) => f.type === "presence_snapshot"), "presence_snapshot"),
    close: () => ws.close(1000, "bye"),
  };
}

/*
 * "Nothing was announced" is checked against a later announcement from the same user, never
 * after a sleep: a hub fans its announcements out one after another (HubPresence's chain), each
 * to every peer it goes to, so once a friend has the later one, anything announced before it
 * (to anyone) has been written already.
 */
const statuses = (s: { presence: (userId?: string) => Frame[] }, u: U) => s.presence(u.userId).map((f) => f.status);

const hubOf = (tenantId: string, u: U) => env.USER_HUB.get(env.USER_HUB.idFromName(doName(tenantId, u.userId)));

/** Ends the offline grace now: moves the pending deadline into the past and fires the hub's alarm. */
async function expireGrace(tenantId: string, u: U): Promise<void> {
  const hub = hubOf(tenantId, u);
  await runInDurableObject(hub, (_obj, state) => {
    state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'presence.offlineDue'", String(Date.now() - 1));
  });
  await runDurableObjectAlarm(hub);
}

/** The hub's open sockets as its close handler last left them (a close is handled once that row is gone). */
const openConns = (tenantId: string, u: U) =>
  runInDurableObject(
    hubOf(tenantId, u),
    (_obj, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM open_conns").one().n,
  );

const offlineDue = (tenantId: string, u: U) =>
  runInDurableObject(
    hubOf(tenantId, u),
    (_obj, state) =>
      state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'presence.offlineDue'").toArray()[0]
        ?.value ?? null,
  );

async function setup(n = 2) {
  const t = await createTenant();
  const users: U[] = [];
  for (let i = 0; i < n; i++) users.push(await registerUser(t.slug));
  return { t: t.slug, tenantId: t.id, users };
}

const presenceOf = async (t: string, viewer: U, target: U) => {
  const res = await call(`/v1/users/${target.userId}`, as(t, viewer));
  expect(res.status).toBe(200);
  return (await res.json<{ presence: { status: string; lastSeenAt: string | null } | null }>()).presence;
};

describe("presence", () => {
  it("a friend connecting is announced online once across devices; offline after the grace, with lastSeenAt", async () => {
    const {
      t,
      tenantId,
      users: [a, b],
    } = await setup();
    await befriend(t, a!, b!);
    const sb = await connect(t, b!.tokens.accessToken);
    expect((await sb.snapshot()).friends).toEqual([]);
    const sa1 = await connect(t, a!.tokens.accessToken);
    await sb.until(() => sb.presence(a!.userId).length === 1, "online");
    expect(sb.presence(a!.userId)[0]).toEqual({ type: "presence", userId: a!.userId, status: "online" });
    // a's device gets b's presence in its snapshot.
    expect((await sa1.snapshot()).friends).toEqual([{ userId: b!.userId, status: "online", lastSeenAt: null }]);
    // A second device of a: no re-announcement (checked against the offline announcement below).
    const sa2 = await connect(t, (await secondDevice(t, a!)).accessToken);
    await sa2.snapshot();
    expect(await presenceOf(t, b!, a!)).toEqual({ status: "online", lastSeenAt: null });

    // Closing one device: still online, once the hub has handled the close. Closing the last:
    // offline only once the grace has run out.
    sa1.close();
    await vi.waitFor(async () => expect(await openConns(tenantId, a!)).toBe(1), { timeout: 5000 });
    expect(await offlineDue(tenantId, a!)).toBeNull();
    expect(await presenceOf(t, b!, a!)).toEqual({ status: "online", lastSeenAt: null });
    sa2.close();
    for (let i = 0; i < 100 && (await offlineDue(tenantId, a!)) === null; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await offlineDue(tenantId, a!)).not.toBeNull();
    await expireGrace(tenantId, a!);
    await sb.until(() => sb.presence(a!.userId).some((f) => f.status === "offline"), "offline");
    // The marker for everything above: nothing came between the first online and the offline.
    expect(statuses(sb, a!)).toEqual(["online", "offline"]);
    const off = sb.presence(a!.userId)[1]!;
    expect(off).toMatchObject({
      type: "presence",
      userId: a!.userId,
      status: "offline",
      lastSeenAt: expect.any(String),
    });
    expect(Date.now() - Date.parse(off.lastSeenAt as string)).toBeLessThan(30_000);
    expect(await presenceOf(t, b!, a!)).toEqual({ status: "offline", lastSeenAt: off.lastSeenAt });
    // The alarm running again announces nothing more: a's next connect is announced right after it.
    await runDurableObjectAlarm(hubOf(tenantId, a!));
    await connect(t, a!.tokens.accessToken);
    await sb.until(() => sb.presence(a!.userId).length >= 3, "online again");
    expect(statuses(sb, a!)).toEqual(["online", "offline", "online"]);
  });

  it("a reconnect within the grace announces nothing; away is announced when every device is away", async () => {
    const {
      t,
      tenantId,
      users: [a, b],
    } = await setup();
    await befriend(t, a!, b!);
    const sb = await connect(t, b!.tokens.accessToken);
    const a2 = await secondDevice(t, a!);
    const sa = await connect(t, a!.tokens.accessToken);
    await sb.until(() => sb.presence(a!.userId).length === 1, "online");
    sa.close();
    for (let i = 0; i < 100 && (await offlineDue(tenantId, a!)) === null; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await offlineDue(tenantId, a!)).not.toBeNull();
    const again = await connect(t, a!.tokens.accessToken);
    await again.snapshot();
    expect(await offlineDue(tenantId, a!)).toBeNull();
    await runDurableObjectAlarm(hubOf(tenantId, a!)); // whatever was scheduled fires: nothing to announce

    // away: only when all of a's sockets say so; repeated identical status is not re-announced.
    // Each "nothing" is checked against the next announcement: the lists below are exact.
    const other = await connect(t, a2.accessToken);
    await other.snapshot();
    again.send({ type: "presence", status: "away" });
    // One socket's frames are handled in order: once its next one is answered, the away was handled.
    again.send({ type: "presence_sync" });
    await again.until(() => again.frames.filter((f) => f.type === "presence_snapshot").length === 2, "snapshot");
    expect(await presenceOf(t, b!, a!)).toEqual({ status: "online", lastSeenAt: null });
    other.send({ type: "presence", status: "away" });
    await sb.until(() => sb.presence(a!.userId).some((f) => f.status === "away"), "away");
    expect(statuses(sb, a!)).toEqual(["online", "away"]);
    other.send({ type: "presence", status: "away" });
    other.send({ type: "presence", status: "online" });
    await sb.until(() => sb.presence(a!.userId).length >= 3, "online again");
    expect(statuses(sb, a!)).toEqual(["online", "away", "online"]);
    // presence_sync answers a snapshot; a bad presence frame is an error frame.
    sb.send({ type: "presence_sync" });
    await sb.until(() => sb.frames.filter((f) => f.type === "presence_snapshot").length === 2, "second snapshot");
    expect(sb.frames.filter((f) => f.type === "presence_snapshot")[1]!.friends).toEqual([
      { userId: a!.userId, status: "online", lastSeenAt: null },
    ]);
    sb.send({ type: "presence", status: "invisible" });
    await sb.until(() => sb.frames.find((f) => f.type === "error"), "error");
    expect(sb.frames.find((f) => f.type === "error")).toMatchObject({ code: "invalid_frame" });
  });

  it("privacy nobody: no frames, no snapshot entry, and GET /v1/users/{id} presence is null", async () => {
    const {
      t,
      tenantId,
      users: [a, b, c],
    } = await setup(3);
    await befriend(t, a!, b!);
    await befriend(t, c!, b!);
    expect(
      (await call("/v1/me/settings", { method: "PUT", ...as(t, a!), json: { privacy: { presence: "nobody" } } }))
        .status,
    ).toBe(200);
    const sb = await connect(t, b!.tokens.accessToken);
    await sb.snapshot();
    const sa = await connect(t, a!.tokens.accessToken);
    await sa.snapshot();
    await connect(t, c!.tokens.accessToken); // the control: c's presence reaches b
    await sb.until(() => sb.presence(c!.userId).length === 1, "c online");
    expect(await presenceOf(t, b!, a!)).toBeNull();
    sb.send({ type: "presence_sync" });
    await sb.until(() => sb.frames.filter((f) => f.type === "presence_snapshot").length === 2, "snapshot");
    expect(
      (sb.frames.filter((f) => f.type === "presence_snapshot")[1]!.friends as { userId: string }[]).map(
        (f) => f.userId,
      ),
    ).toEqual([c!.userId]);
    sa.close();
    for (let i = 0; i < 100 && (await offlineDue(tenantId, a!)) === null; i++)
      await new Promise((r) => setTimeout(r, 10));
    await expireGrace(tenantId, a!);
    // The owner still sees their own presence.
    expect(await presenceOf(t, a!, a!)).toMatchObject({ status: "offline" });

    // Turning it back to friends while online announces the current status.
    const sa2 = await connect(t, a!.tokens.accessToken);
    await sa2.snapshot();
    expect(
      (await call("/v1/me/settings", { method: "PUT", ...as(t, a!), json: { privacy: { presence: "friends" } } }))
        .status,
    ).toBe(200);
    await sb.until(() => sb.presence(a!.userId).length >= 1, "online after opt-in");
    // The opt-in's announcement is the marker: a's connects and its offline under `nobody` sent b
    // nothing before it.
    expect(sb.presence(a!.userId)).toEqual([{ type: "presence", userId: a!.userId, status: "online" }]);
    expect(await presenceOf(t, b!, a!)).toEqual({ status: "online", lastSeenAt: expect.any(String) });
  });

  it("non-friends get nothing (privacy friends), but see GET presence with privacy everyone", async () => {
    const {
      t,
      users: [a, b, c],
    } = await setup(3);
    await befriend(t, a!, c!);
    const sb = await connect(t, b!.tokens.accessToken);
    const sc = await connect(t, c!.tokens.accessToken);
    await Promise.all([sb.snapshot(), sc.snapshot()]);
    const sa = await connect(t, a!.tokens.accessToken);
    await sc.until(() => sc.presence(a!.userId).length === 1, "friend c gets it");
    expect(await presenceOf(t, b!, a!)).toBeNull();
    expect(await presenceOf(t, c!, a!)).toEqual({ status: "online", lastSeenAt: null });
    await call("/v1/me/settings", { method: "PUT", ...as(t, a!), json: { privacy: { presence: "everyone" } } });
    expect(await presenceOf(t, b!, a!)).toEqual({ status: "online", lastSeenAt: null });
    // The marker: a's next announcement reaching c. Frames still go to friends only.
    sa.send({ type: "presence", status: "away" });
    await sc.until(() => sc.presence(a!.userId).length === 2, "friend c gets away");
    expect(sb.presence()).toEqual([]);
  });

  it("a blocked user gets nothing, either way", async () => {
    const {
      t,
      users: [a, b, c, d],
    } = await setup(4);
    await befriend(t, a!, b!);
    await befriend(t, a!, c!);
    await befriend(t, a!, d!);
    await call("/v1/me/settings", { method: "PUT", ...as(t, a!), json: { privacy: { presence: "everyone" } } });
    expect((await call(`/v1/blocks/${b!.userId}`, { method: "PUT", ...as(t, a!) })).status).toBe(204); // a blocks b
    expect((await call(`/v1/blocks/${a!.userId}`, { method: "PUT", ...as(t, d!) })).status).toBe(204); // d blocks a
    const [sb, sc, sd] = await Promise.all([
      connect(t, b!.tokens.accessToken),
      connect(t, c!.tokens.accessToken),
      connect(t, d!.tokens.accessToken),
    ]);
    await Promise.all([sb.snapshot(), sc.snapshot(), sd.snapshot()]);
    const sa = await connect(t, a!.tokens.accessToken);
    await sc.until(() => sc.presence(a!.userId).length === 1, "c gets it");
    const snap = await sa.snapshot();
    expect((snap.friends as { userId: string }[]).map((f) => f.userId)).toEqual([c!.userId]);
    // The marker: a's next announcement reaching c.
    sa.send({ type: "presence", status: "away" });
    await sc.until(() => sc.presence(a!.userId).length === 2, "c gets away");
    expect(sb.presence()).toEqual([]);
    expect(sd.presence()).toEqual([]);
    expect((await call(`/v1/users/${a!.userId}`, as(t, b!))).status).toBe(404);
    expect((await call(`/v1/users/${a!.userId}`, as(t, d!))).status).toBe(404);
  });
});
