import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { platformDb } from "../../src/db/client";
import { findTenantBySlug } from "../../src/db/platform/tenants";
import { emailDigestItems } from "../../src/db/tenant/schema";
import { newId } from "../../src/lib/ids";
import { runScheduled } from "../../src/workers/gateway/background";
import type { TenantScope } from "../../src/workers/gateway/context";
import { emailDigestSweep } from "../../src/workers/notifications/digest-sweep";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, createTenant, expectProblem, tenantScopeOf } from "./helpers";
import { freshAddress, inbox, linkToken, mailTo } from "./mail-helpers";

type U = Awaited<ReturnType<typeof registerUser>>;
interface Settings {
  privacy: Record<string, unknown>;
  notifications: Record<string, boolean>;
  email: Record<string, boolean>;
}
interface Item {
  id: string;
  type: string;
  actorId: string | null;
}

const HOUR = 3_600_000;
const eventually = <T>(fn: () => Promise<T>) => vi.waitFor(fn, { timeout: 15_000, interval: 200 });
/** A user whose address is verified (notification mail goes to verified addresses only). */
async function user(slug: string, tag: string): Promise<U> {
  const u = await registerUser(slug, { email: freshAddress(tag) });
  const mail = await mailTo(u.email, /Confirm your email address/);
  const res = await call("/v1/auth/email/verify", { method: "POST", tenant: slug, json: { token: linkToken(mail) } });
  expect(res.status, await res.clone().text()).toBe(200);
  return u;
}

const putSettings = (slug: string, u: U, json: unknown) =>
  call("/v1/me/settings", { method: "PUT", ...as(slug, u), json });

async function optIn(slug: string, u: U, email: Record<string, boolean>): Promise<Settings> {
  const res = await putSettings(slug, u, { email });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Settings>();
}

const notificationsOf = async (slug: string, u: U) =>
  (await (await call("/v1/notifications", as(slug, u))).json<{ items: Item[] }>()).items;

/** `from` asks `to` to be friends; answers the request id. */
async function request(slug: string, from: U, to: U): Promise<string> {
  const res = await call("/v1/friends/requests", { method: "POST", ...as(slug, from), json: { toUserId: to.userId } });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json<{ id: string }>()).id;
}

/** `u` asks `friend`, who accepts: `u` gets a `friend_accepted` notification (one entry each, never collapsed). */
async function accepted(slug: string, u: U, friend: U): Promise<void> {
  const id = await request(slug, u, friend);
  expect((await call(`/v1/friends/requests/${id}/accept`, { method: "POST", ...as(slug, friend) })).status).toBe(204);
}

/** Mails to `u` whose subject matches. */
const mails = async (u: U, subject: RegExp) => (await inbox(u.email)).filter((m) => subject.test(m.subject));

/**
 * Proves that nothing else is on its way to `u`: a password reset requested now goes through the
 * same queue after whatever came before it, so once it arrived, an earlier mail would have too.
 */
async function afterMarker(slug: string, u: U, n = 1): Promise<void> {
  const res = await call("/v1/auth/password/reset", { method: "POST", tenant: slug, json: { email: u.email } });
  expect(res.status).toBe(202);
  await mailTo(u.email, /reset/i, n);
}

async function digestItems(s: TenantScope, u: U): Promise<string[]> {
  const rows = await s.db.select().from(emailDigestItems).where(eq(emailDigestItems.userId, u.userId)).all();
  return rows.map((r) => r.notificationId);
}

async function deliver(bodies: unknown[]) {
  const batch = createMessageBatch<unknown>(
    "canopy-notification",
    bodies.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

const friendRequestEvent = (tenantId: string, to: U, from: U) => ({
  specversion: "1.0",
  id: newId(),
  source: `/tenants/${tenantId}`,
  type: "friend.request.received",
  tenantid: tenantId,
  time: new Date().toISOString(),
  datacontenttype: "application/json",
  data: { userId: to.userId, fromUserId: from.userId, requestId: `r-${crypto.randomUUID()}`, message: "hello again" },
});

describe("email channel", () => {
  it("by default no notification type is mailed: a friend request reaches the inbox, not the mailbox", async () => {
    const t = await createTenant();
    const [alice, bob] = [await user(t.slug, "alice"), await user(t.slug, "bob")];
    const settings = await (await call("/v1/me/settings", as(t.slug, bob))).json<Settings>();
    expect(settings.email).toEqual({
      friendRequests: false,
      messages: false,
      mentions: false,
      follows: false,
      announcements: false,
      digest: false,
    });
    await request(t.slug, alice, bob);
    await eventually(async () =>
      expect((await notificationsOf(t.slug, bob)).map((n) => n.type)).toEqual(["friend_request"]),
    );
    await afterMarker(t.slug, bob);
    expect(await mails(bob, /friend request/)).toEqual([]);
  });

  it("an unverified address gets no notification mail, whatever the user opted into", async () => {
    const t = await createTenant();
    const alice = await user(t.slug, "alice");
    const bob = await registerUser(t.slug, { email: freshAddress("unverified") });
    await optIn(t.slug, bob, { friendRequests: true });
    await request(t.slug, alice, bob);
    await eventually(async () =>
      expect((await notificationsOf(t.slug, bob)).map((n) => n.type)).toEqual(["friend_request"]),
    );
    await afterMarker(t.slug, bob);
    expect(await mails(bob, /friend request/)).toEqual([]);
  });

  it("opted in: one mail per friend request, none twice for a redelivered or raced event", async () => {
    const t = await createTenant();
    const [alice, bob, carol, dave, erin] = [
      await user(t.slug, "alice"),
      await user(t.slug, "bob"),
      await user(t.slug, "carol"),
      await user(t.slug, "dave"),
      await user(t.slug, "erin"),
    ];
    const after = await optIn(t.slug, bob, { friendRequests: true });
    expect(after.email).toMatchObject({ friendRequests: true, messages: false, digest: false });

    await request(t.slug, alice, bob);
    await request(t.slug, carol, bob);
    const second = await mailTo(bob.email, /sent you a friend request/, 2);
    const both = await mails(bob, /sent you a friend request/);
    expect(both.map((m) => m.subject).sort()).toEqual(
      [`${alice.username} sent you a friend request`, `${carol.username} sent you a friend request`].sort(),
    );
    expect(second.text).toContain("because of your notification settings");
    // The inbox collapsed the two into one entry; the mailbox has one mail per event.
    expect((await notificationsOf(t.slug, bob)).filter((n) => n.type === "friend_request")).toHaveLength(1);

    const { id: tenantId } = (await findTenantBySlug(platformDb(env), t.slug))!;
    const again = friendRequestEvent(tenantId, bob, dave);
    expect((await deliver([again, again])).explicitAcks).toHaveLength(2);
    await deliver([again]);
    const raced = friendRequestEvent(tenantId, bob, erin);
    await Promise.all([1, 2, 3].map(() => deliver([raced])));
    // Each queue batch above ran to completion, mail included, before its promise settled.
    expect(await mails(bob, new RegExp(`^${dave.username} sent you`))).toHaveLength(1);
    expect(await mails(bob, new RegExp(`^${erin.username} sent you`))).toHaveLength(1);
    expect(await mails(bob, /sent you a friend request/)).toHaveLength(4);
    // The provider drops a repeated key anyway; the consumer must not even try. Had it run the
    // email step again for the repeat, bob's digest (now on) would have gained an entry.
    await optIn(t.slug, bob, { digest: true });
    await deliver([again, raced]);
    expect(await digestItems(await tenantScopeOf(t.slug), bob)).toEqual([]);
  });

  it("with the digest on: no mail at once, at most one digest an hour, listing only what is still unread", async () => {
    const t = await createTenant();
    const s = await tenantScopeOf(t.slug);
    const names = ["alice", "bob", "carol", "dave", "erin", "frank"] as const;
    const [alice, bob, carol, dave, erin, frank] = await Promise.all(names.map((n) => user(t.slug, n)));
    if (!alice || !bob || !carol || !dave || !erin || !frank) throw new Error("users");
    await optIn(t.slug, bob, { friendRequests: true });
    // A patch naming one field keeps the others: the opt-in survives turning the digest on.
    expect((await optIn(t.slug, bob, { digest: true })).email).toMatchObject({ friendRequests: true, digest: true });

    await request(t.slug, alice, bob);
    await accepted(t.slug, bob, carol);
    await accepted(t.slug, bob, dave);
    await eventually(async () => expect(await digestItems(s, bob)).toHaveLength(3));
    const fromDave = (await notificationsOf(t.slug, bob)).find((n) => n.actorId === dave.userId)!;
    expect((await call(`/v1/notifications/${fromDave.id}/read`, { method: "POST", ...as(t.slug, bob) })).status).toBe(
      200,
    );
    await afterMarker(t.slug, bob);
    expect(await mails(bob, /friend request/)).toEqual([]);

    // The clock runs far ahead of any other test's cron, so only this test's sweeps serve bob.
    const t0 = Date.now() + 1000 * 24 * HOUR;
    expect(await emailDigestSweep(s, t0)).toEqual({ emailDigestsSent: 1 });
    const [digest, ...others] = await mails(bob, /digest/i);
    expect(others).toEqual([]);
    expect(digest!.text).toContain(`${alice.username} sent you a friend request`);
    expect(digest!.text).toContain(`${carol.username} accepted your friend request`);
    expect(digest!.text).not.toContain(dave.username);
    expect(digest!.text).toMatch(/\(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    expect(await digestItems(s, bob)).toEqual([]);

    // Within the hour: the next notification waits.
    await accepted(t.slug, bob, erin);
    await eventually(async () => expect(await digestItems(s, bob)).toHaveLength(1));
    expect(await emailDigestSweep(s, t0 + 30 * 60_000)).toEqual({});
    expect(await mails(bob, /digest/i)).toHaveLength(1);
    // An hour later it goes out, alone: what the first digest listed is not repeated.
    expect(await emailDigestSweep(s, t0 + HOUR)).toEqual({ emailDigestsSent: 1 });
    const next = await mailTo(bob.email, /digest/i, 2);
    expect(next.text).toContain(`${erin.username} accepted your friend request`);
    expect(next.text).not.toContain(alice.username);
    expect(next.text).not.toContain(carol.username);

    // Everything waiting was read in the meantime: the items are dropped, and no mail goes out.
    await accepted(t.slug, bob, frank);
    await eventually(async () => expect(await digestItems(s, bob)).toHaveLength(1));
    expect((await call("/v1/notifications/read-all", { method: "POST", ...as(t.slug, bob) })).status).toBe(200);
    expect(await emailDigestSweep(s, t0 + 3 * HOUR)).toEqual({ emailDigestsDropped: 1 });
    expect(await digestItems(s, bob)).toEqual([]);
    expect(await mails(bob, /digest/i)).toHaveLength(2);
  }, 90_000);

  it("announcements are mailed to those who opted in, with the tenant's announcement as the mail", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const [alice, bob] = [await user(tenant.slug, "alice"), await user(tenant.slug, "bob")];
    await optIn(tenant.slug, bob, { announcements: true });
    const title = `Maintenance ${crypto.randomUUID().slice(0, 6)}`;
    const res = await call("/v1/admin/announcements", {
      method: "POST",
      ...as(tenant.slug, owner),
      json: { title, body: "Tonight at 22:00 UTC" },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const mail = await mailTo(bob.email, new RegExp(title));
    expect(mail.text).toContain("Tonight at 22:00 UTC");
    await afterMarker(tenant.slug, alice);
    expect(await mails(alice, new RegExp(title))).toEqual([]);
  });

  it("the minute cron sends a first digest without waiting for an hour", async () => {
    const t = await createTenant();
    const s = await tenantScopeOf(t.slug);
    const [alice, bob] = [await user(t.slug, "alice"), await user(t.slug, "bob")];
    await optIn(t.slug, bob, { friendRequests: true, digest: true });
    await request(t.slug, alice, bob);
    await eventually(async () => expect(await digestItems(s, bob)).toHaveLength(1));
    // The real clock: the cron visits every tenant, and moving its clock would move theirs too.
    await runScheduled(env);
    const digest = await mailTo(bob.email, /digest/i);
    expect(digest.text).toContain(`${alice.username} sent you a friend request`);
  });
});

describe("email settings", () => {
  it("are the caller's own: a body naming another user is refused, and a change touches nobody else", async () => {
    const t = await createTenant();
    const [alice, bob] = [await user(t.slug, "alice"), await user(t.slug, "bob")];
    await expectProblem(
      await putSettings(t.slug, bob, { userId: alice.userId, email: { friendRequests: true } }),
      400,
      "validation_failed",
    );
    await optIn(t.slug, bob, { friendRequests: true, announcements: true });
    const hers = await (await call("/v1/me/settings", as(t.slug, alice))).json<Settings>();
    expect(Object.values(hers.email)).toEqual([false, false, false, false, false, false]);
  });

  it("refuse bad values with validation_failed and keep what was stored", async () => {
    const t = await createTenant();
    const bob = await user(t.slug, "bob");
    await optIn(t.slug, bob, { mentions: true });
    for (const bad of [
      { email: { digest: "yes" } },
      { email: { friendRequests: null } },
      { email: { sms: true } },
      { email: true },
      { email: [] },
      { email: { quota_warning: true } },
    ])
      await expectProblem(await putSettings(t.slug, bob, bad), 400, "validation_failed");
    const mine = await (await call("/v1/me/settings", as(t.slug, bob))).json<Settings>();
    expect(mine.email).toMatchObject({ mentions: true, digest: false });
  });

  it("a partial update keeps every field it does not name, in every group", async () => {
    const t = await createTenant();
    const bob = await user(t.slug, "bob");
    const first = await putSettings(t.slug, bob, {
      privacy: { searchable: false, friendRequests: "nobody" },
      notifications: { messages: false },
      email: { messages: true },
    });
    expect(first.status).toBe(200);
    const res = await putSettings(t.slug, bob, { privacy: { presence: "nobody" }, email: { digest: true } });
    const now = await res.json<Settings>();
    expect(now.privacy).toEqual({ searchable: false, friendRequests: "nobody", presence: "nobody" });
    expect(now.notifications.messages).toBe(false);
    expect(now.email).toMatchObject({ messages: true, digest: true, friendRequests: false });
  });
});
