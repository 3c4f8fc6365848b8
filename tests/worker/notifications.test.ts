import { sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { as, befriend, registerUser, tenantWithOwner, type Tokens } from "./auth-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";
import { connect } from "./socket-helpers";

type U = Awaited<ReturnType<typeof registerUser>>;
interface Item {
  id: string;
  type: string;
  title: string;
  body: string;
  count: number;
  readAt: string | null;
  data: Record<string, unknown>;
}
interface Page {
  items: Item[];
  nextCursor: string | null;
  unreadCount: number;
}

const inbox = async (slug: string, u: U, q = "") => (await call(`/v1/notifications${q}`, as(slug, u))).json<Page>();
const eventually = <T>(fn: () => Promise<T>) => vi.waitFor(fn, { timeout: 15_000, interval: 250 });

async function announce(slug: string, admin: { tokens: Tokens }, json: Record<string, unknown>) {
  const res = await call("/v1/admin/announcements", { method: "POST", ...as(slug, admin), json });
  expect(res.status, await res.clone().text()).toBe(202);
  return res.json<{ id: string }>();
}

describe("notifications", () => {
  it("friend requests and acceptances reach the inbox through the hub's outbox and the queue", async () => {
    const { tenant } = await tenantWithOwner();
    const [alice, bob] = [await registerUser(tenant.slug), await registerUser(tenant.slug)];
    const res = await call("/v1/friends/requests", {
      method: "POST",
      ...as(tenant.slug, alice),
      json: { toUserId: bob.userId, message: "hello" },
    });
    const { id } = await res.json<{ id: string }>();
    await eventually(async () => {
      const [n] = (await inbox(tenant.slug, bob)).items;
      expect(n?.type).toBe("friend_request");
      expect(n?.title).toContain("sent you a friend request");
      expect(n?.body).toBe("hello");
    });
    expect((await call(`/v1/friends/requests/${id}/accept`, { method: "POST", ...as(tenant.slug, bob) })).status).toBe(
      204,
    );
    await eventually(async () =>
      expect((await inbox(tenant.slug, alice)).items.map((n) => n.type)).toEqual(["friend_accepted"]),
    );
    // The acceptor is not told about their own acceptance.
    expect((await inbox(tenant.slug, bob)).items.map((n) => n.type)).toEqual(["friend_request"]);
  });

  it("messages to an offline user collapse into one entry; online users get none; a mention arrives, live", async () => {
    const { tenant } = await tenantWithOwner();
    const [alice, bob] = [await registerUser(tenant.slug), await registerUser(tenant.slug)];
    await befriend(tenant.slug, alice, bob);
    const conv = await (
      await call("/v1/conversations", {
        method: "POST",
        ...as(tenant.slug, alice),
        json: { type: "direct", userId: bob.userId },
      })
    ).json<{ id: string }>();
    const send = async (clientId: string, body: Record<string, unknown>) =>
      expect(
        (
          await call(`/v1/conversations/${conv.id}/messages`, {
            method: "POST",
            ...as(tenant.slug, alice),
            json: { clientId, body },
          })
        ).status,
      ).toBe(201);
    for (const i of [1, 2, 3]) await send(`c${i}`, { text: `hi ${i}` });
    await eventually(async () => {
      const msgs = (await inbox(tenant.slug, bob)).items.filter((n) => n.type === "message");
      expect(msgs).toHaveLength(1);
      expect(msgs[0]!.count).toBe(3);
      expect(msgs[0]!.title).toMatch(/^3 new messages from /);
      expect(msgs[0]!.body).toBe("hi 3");
    });
    // Bob was offline: the push provider was used.
    const { db } = await tenantDbOf(tenant.slug);
    const [via] = await db.all<{ delivered_via: string }>(
      sql`SELECT delivered_via FROM notifications WHERE user_id = ${bob.userId} AND type = 'message'`,
    );
    expect(via?.delivered_via).toBe("push");

    const sock = await connect(tenant.slug, { token: bob.tokens.accessToken });
    await send("c4", { text: "while you are here" });
    await send("c5", { text: "look @bob", mentions: [bob.userId] });
    const frame = await sock.until(
      () => sock.frames.find((f) => f.type === "notification"),
      "notification frame",
      15_000,
    );
    expect((frame.notification as Item).type).toBe("mention");
    const items = (await inbox(tenant.slug, bob)).items;
    expect(items.find((n) => n.type === "message")!.count).toBe(3);
    expect(items.filter((n) => n.type === "mention")).toHaveLength(1);
    sock.ws.close();
  });

  it("mentions notify members only: not a non-member, not across a block either way, not who muted the conversation", async () => {
    const { tenant } = await tenantWithOwner();
    const t = tenant.slug;
    const [sender, member, blocker, blocked, muter, outsider] = (await Promise.all(
      Array.from({ length: 6 }, () => registerUser(t)),
    )) as [U, U, U, U, U, U];
    const created = await call("/v1/conversations", {
      method: "POST",
      ...as(t, sender),
      json: { type: "group", name: "crew", memberIds: [member, blocker, blocked, muter].map((u) => u.userId) },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id } = await created.json<{ id: string }>();
    // Blocks between members, both ways: the member blocks the sender, the sender blocks another.
    expect((await call(`/v1/blocks/${sender.userId}`, { method: "PUT", ...as(t, blocker) })).status).toBeLessThan(300);
    expect((await call(`/v1/blocks/${blocked.userId}`, { method: "PUT", ...as(t, sender) })).status).toBeLessThan(300);
    expect(
      (await call(`/v1/conversations/${id}/members/me`, { method: "PATCH", ...as(t, muter), json: { muted: true } }))
        .status,
    ).toBe(200);
    const mentions = [member, blocker, blocked, muter, outsider].map((u) => u.userId);
    // Over HTTP (the object asks the sender's hub about blocks) and over the socket (the hub vouches).
    const sent = await call(`/v1/conversations/${id}/messages`, {
      method: "POST",
      ...as(t, sender),
      json: { clientId: "m1", body: { text: "hey all", mentions } },
    });
    expect(sent.status, await sent.clone().text()).toBe(201);
    const sock = await connect(t, { token: sender.tokens.accessToken });
    sock.send({ type: "send", clientId: "m2", conversationId: id, body: { text: "hey again", mentions } });
    await sock.frame("ack");
    sock.ws.close();
    // Every notification of one message is written in one batch: once the member has both
    // mentions, whatever else those two messages were going to notify exists too.
    await eventually(async () =>
      expect(
        (await inbox(t, member)).items
          .filter((n) => n.type === "mention")
          .map((n) => n.body)
          .sort(),
      ).toEqual(["hey again", "hey all"]),
    );
    for (const u of [blocker, blocked])
      expect(
        (await inbox(t, u)).items.filter((n) => n.type === "mention"),
        "no mention across a block",
      ).toEqual([]);
    expect((await inbox(t, muter)).items, "a muted conversation notifies nothing").toEqual([]);
    expect((await inbox(t, outsider)).items, "a non-member hears nothing").toEqual([]);
  });

  it("read one, read all, delete, unread count; another user's notification is 404; muted types create nothing", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const [alice, bob, carol] = [
      await registerUser(tenant.slug),
      await registerUser(tenant.slug),
      await registerUser(tenant.slug),
    ];
    const put = await call("/v1/notifications/preferences", {
      method: "PUT",
      ...as(tenant.slug, alice),
      json: { muted: ["friend_request"] },
    });
    expect(await put.json()).toEqual({ muted: ["friend_request"] });
    await expectProblem(
      await call("/v1/notifications/preferences", {
        method: "PUT",
        ...as(tenant.slug, alice),
        json: { muted: ["nope"] },
      }),
      400,
      "validation_failed",
    );
    await call("/v1/friends/requests", { method: "POST", ...as(tenant.slug, bob), json: { toUserId: alice.userId } });
    await announce(tenant.slug, owner, { title: "one" });
    await announce(tenant.slug, owner, { title: "two" });
    await eventually(async () =>
      expect((await inbox(tenant.slug, alice)).items.map((n) => n.title).sort()).toEqual(["one", "two"]),
    );
    await eventually(async () => expect((await inbox(tenant.slug, carol)).unreadCount).toBe(2));

    const page = await inbox(tenant.slug, alice);
    expect(page.unreadCount).toBe(2);
    const first = page.items[0]!;
    await expectProblem(
      await call(`/v1/notifications/${first.id}/read`, { method: "POST", ...as(tenant.slug, carol) }),
      404,
      "notification_not_found",
    );
    await expectProblem(
      await call(`/v1/notifications/${first.id}`, { method: "DELETE", ...as(tenant.slug, carol) }),
      404,
      "notification_not_found",
    );
    const read = await call(`/v1/notifications/${first.id}/read`, { method: "POST", ...as(tenant.slug, alice) });
    expect((await read.json<Item>()).readAt).not.toBeNull();
    expect(await (await call("/v1/notifications/unread-count", as(tenant.slug, alice))).json()).toEqual({ count: 1 });
    expect((await inbox(tenant.slug, alice, "?unread=true")).items).toHaveLength(1);
    const all = await call("/v1/notifications/read-all", { method: "POST", ...as(tenant.slug, alice) });
    expect((await all.json<{ updated: number }>()).updated).toBe(1);
    expect((await call(`/v1/notifications/${first.id}`, { method: "DELETE", ...as(tenant.slug, alice) })).status).toBe(
      204,
    );
    expect((await inbox(tenant.slug, alice)).items).toHaveLength(1);
    // Pages: limit 1 gives a cursor to the next entry.
    const p1 = await inbox(tenant.slug, carol, "?limit=1");
    const p2 = await inbox(tenant.slug, carol, `?limit=1&cursor=${p1.nextCursor}`);
    expect([...p1.items, ...p2.items].map((n) => n.title).sort()).toEqual(["one", "two"]);
    await expectProblem(await call("/v1/notifications?cursor=garbage", as(tenant.slug, alice)), 400, "invalid_cursor");
    expect((await call("/v1/notifications", { tenant: tenant.slug })).status).toBe(401);
  });

  it("announcements go to everyone or to one role, need the permission, and stay in their tenant", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const other = await tenantWithOwner();
    const [alice, bob] = [await registerUser(tenant.slug), await registerUser(tenant.slug)];
    const stranger = await registerUser(other.tenant.slug);
    await expectProblem(
      await call("/v1/admin/announcements", { method: "POST", ...as(tenant.slug, alice), json: { title: "x" } }),
      403,
      "forbidden",
    );
    await expectProblem(
      await call("/v1/admin/announcements", {
        method: "POST",
        ...as(tenant.slug, owner),
        json: { title: "x", role: "ghosts" },
      }),
      400,
      "unknown_role",
    );
    await expectProblem(
      await call("/v1/admin/announcements", { method: "POST", ...as(tenant.slug, owner), json: { title: "" } }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/admin/announcements", {
        method: "POST",
        ...as(tenant.slug, owner),
        json: { title: "x".repeat(201) },
      }),
      400,
      "validation_failed",
    );
    // A's owner token on B's host is refused.
    expect(
      (await call("/v1/admin/announcements", { method: "POST", ...as(other.tenant.slug, owner), json: { title: "x" } }))
        .status,
    ).toBe(401);

    const roles = await call(`/v1/admin/users/${bob.userId}/roles`, {
      method: "PUT",
      ...as(tenant.slug, owner),
      json: { roles: ["moderator"] },
    });
    expect(roles.status, await roles.clone().text()).toBe(200);
    await announce(tenant.slug, owner, { title: "mods only", role: "moderator" });
    await announce(tenant.slug, owner, { title: "everyone", body: "hello all" });
    await eventually(async () =>
      expect((await inbox(tenant.slug, alice)).items.map((n) => n.title)).toEqual(["everyone"]),
    );
    await eventually(async () =>
      expect((await inbox(tenant.slug, bob)).items.map((n) => n.title).sort()).toEqual(["everyone", "mods only"]),
    );
    expect((await inbox(other.tenant.slug, stranger)).items).toHaveLength(0);
    const list = await (await call("/v1/admin/announcements", as(tenant.slug, owner))).json<{
      items: { title: string }[];
    }>();
    expect(list.items.map((a) => a.title)).toEqual(["everyone", "mods only"]);
  });
});
