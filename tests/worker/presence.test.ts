import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { doName } from "../../src/durable/names";
import { bearer, login, registerUser, type Tokens, as, befriend, secondDevice } from "./auth-helpers";
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

const settle = () => new Promise((r) => setTimeout(r, 150));

const hubOf = (tenantId: string, u: U) => env.USER_HUB.get(env.USER_HUB.idFromName(doName(tenantId, u.userId)));

/** Ends the offline grace now: moves the pending deadline into the past and fires the hub's alarm. */
async function expireGrace(tenantId: string, u: U): Promise<void> {
  const hub = hubOf(tenantId, u);
  await runInDurableObject(hub, (_obj, state) => {
    state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'presence.offlineDue'", String(Date.now() - 1));
  });
  await runDurableObjectAlarm(hub);
}

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
    // A second device of a: no re-announcement.
    const sa2 = await connect(t, (await secondDevice(t, a!)).accessToken);
    await sa2.snapshot();
    await settle();
    expect(sb.presence(a!.userId)).toHaveLength(1);
    expect(await presenceOf(t, b!, a!)).toEqual({ status: "online", lastSeenAt: null });

    // Closing one device: still online. Closing the last: offline only once the grace has run out.
    sa1.close();
    await settle();
    expect(await offlineDue(tenantId, a!)).toBeNull();
    sa2.close();
    for (let i = 0; i < 100 && (await offlineDue(tenantId, a!)) === null; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(await offlineDue(tenantId, a!)).not.toBeNull();
    expect(sb.presence(a!.userId)).toHaveLength(1);
    await expireGrace(tenantId, a!);
    await sb.until(() => sb.presence(a!.userId).length === 2, "offline");
    const off = sb.presence(a!.userId)[1]!;
    expect(off).toMatchObject({
      type: "presence",
      userId: a!.userId,
      status: "offline",
      lastSeenAt: expect.any(String),
    });
    expect(Date.now() - Date.parse(off.lastSeenAt as string)).toBeLessThan(30_000);
    expect(await presenceOf(t, b!, a!)).toEqual({ status: "offline", lastSeenAt: off.lastSeenAt });
    // The alarm running again announces nothing more.
    await runDurableObjectAlarm(hubOf(tenantId, a!));
    await settle();
    expect(sb.presence(a!.userId)).toHaveLength(2);
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
    await settle();
    expect(sb.presence(a!.userId).map((f) => f.status)).toEqual(["online"]);

    // away: only when all of a's sockets say so; repeated identical status is not re-announced.
    const other = await connect(t, a2.accessToken);
    await other.snapshot();
    again.send({ type: "presence", status: "away" });
    await settle();
    expect(sb.presence(a!.userId).map((f) => f.status)).toEqual(["online"]);
    other.send({ type: "presence", status: "away" });
    await sb.until(() => sb.presence(a!.userId).length === 2, "away");
    other.send({ type: "presence", status: "away" });
    await settle();
    other.send({ type: "presence", status: "online" });
    await sb.until(() => sb.presence(a!.userId).length === 3, "online again");
    expect(sb.presence(a!.userId).map((f) => f.status)).toEqual(["online", "away", "online"]);
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
    await settle();
    expect(sb.presence(a!.userId)).toEqual([]);
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
    await settle();
    expect(sb.presence(a!.userId)).toEqual([]);
    // The owner still sees their own presence.
    expect(await presenceOf(t, a!, a!)).toMatchObject({ status: "offline" });

    // Turning it back to friends while online announces the current status.
    const sa2 = await connect(t, a!.tokens.accessToken);
    await sa2.snapshot();
    expect(
      (await call("/v1/me/settings", { method: "PUT", ...as(t, a!), json: { privacy: { presence: "friends" } } }))
        .status,
    ).toBe(200);
    await sb.until(() => sb.presence(a!.userId).length === 1, "online after opt-in");
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
    await connect(t, a!.tokens.accessToken);
    await sc.until(() => sc.presence(a!.userId).length === 1, "friend c gets it");
    await settle();
    expect(sb.presence()).toEqual([]);
    expect(await presenceOf(t, b!, a!)).toBeNull();
    expect(await presenceOf(t, c!, a!)).toEqual({ status: "online", lastSeenAt: null });
    await call("/v1/me/settings", { method: "PUT", ...as(t, a!), json: { privacy: { presence: "everyone" } } });
    expect(await presenceOf(t, b!, a!)).toEqual({ status: "online", lastSeenAt: null });
    await settle();
    expect(sb.presence()).toEqual([]); // frames still go to friends only
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
    await settle();
    expect(sb.presence()).toEqual([]);
    expect(sd.presence()).toEqual([]);
    expect((await call(`/v1/users/${a!.userId}`, as(t, b!))).status).toBe(404);
    expect((await call(`/v1/users/${a!.userId}`, as(t, d!))).status).toBe(404);
  });
});
