import { beforeAll, describe, expect, it, vi } from "vitest";
import { as, befriend, registerUser, tenantWithOwner } from "./auth-helpers";
import { sql } from "drizzle-orm";
import { call, tenantDbOf } from "./helpers";
import { create, ids, moderator, type Post, type User } from "./post-helpers";
import { allPosts, deliverAi, liked, recEvent, recTables } from "./ai-recommend-helpers";

const ok = async (res: Response) => expect(res.status, await res.clone().text()).toBeLessThan(300);

/** Posts the viewer must never be recommended, each made so by one rule. */
const HIDDEN = [
  "private",
  "followers-only, not followed",
  "friends-only, not a friend",
  "author blocked by the viewer",
  "author blocks the viewer",
  "suspended author",
  "removed",
  "held for review",
  "draft",
  "already liked",
] as const;
type Hidden = (typeof HIDDEN)[number];

describe("recommendations never leak", () => {
  let slug = "";
  let viewer: User;
  let seed: Post;
  let control: Post;
  let vip: Post;
  let others: Post[] = [];
  const hidden = {} as Record<Hidden, Post>;

  beforeAll(async () => {
    const t = await tenantWithOwner({ messages: { moderation: { mode: "review", words: ["verboten"] } } });
    slug = t.tenant.slug;
    const tenantId = t.tenant.id;
    const [v, a, b, c, d] = await Promise.all(Array.from({ length: 5 }, () => registerUser(slug)));
    viewer = v!;
    const [author, blocked, blocker, suspended] = [a!, b!, c!, d!];
    const mod = await moderator(slug, t.owner);
    const raters = await Promise.all(Array.from({ length: 3 }, () => registerUser(slug)));
    seed = await create(slug, author, { body: "seed" });
    const x1 = await create(slug, author, { body: "x1" });
    const x2 = await create(slug, author, { body: "x2" });
    others = [x1, x2];
    control = await create(slug, author, { body: "control" });
    vip = await create(slug, author, { body: "for members", visibility: "vip", minVipLevel: 1 });
    hidden.private = await create(slug, author, { body: "p", visibility: "private" });
    hidden["followers-only, not followed"] = await create(slug, author, { body: "f", visibility: "followers" });
    hidden["friends-only, not a friend"] = await create(slug, author, { body: "fr", visibility: "friends" });
    hidden["author blocked by the viewer"] = await create(slug, blocked, { body: "b" });
    hidden["author blocks the viewer"] = await create(slug, blocker, { body: "c" });
    hidden["suspended author"] = await create(slug, suspended, { body: "s" });
    hidden.removed = await create(slug, author, { body: "r" });
    hidden["held for review"] = await create(slug, author, { body: "verboten" });
    hidden.draft = await create(slug, author, { body: "d", status: "draft" });
    hidden["already liked"] = await create(slug, author, { body: "l" });
    expect(hidden["held for review"].status).toBe("under_review");
    await ok(await call(`/v1/blocks/${blocked.userId}`, { method: "PUT", ...as(slug, viewer) }));
    await ok(await call(`/v1/blocks/${viewer.userId}`, { method: "PUT", ...as(slug, blocker) }));
    await ok(await call(`/v1/admin/users/${suspended.userId}/suspend`, { method: "POST", ...as(slug, t.owner) }));
    await ok(await call(`/v1/admin/posts/${hidden.removed.id}/remove`, { method: "POST", ...as(slug, mod) }));
    await ok(await call(`/v1/posts/${hidden["already liked"].id}/like`, { method: "PUT", ...as(slug, viewer) }));
    // Every rater engaged with the seed and every target: each target co-occurs with the seed.
    const targets = [control, vip, ...Object.values(hidden)];
    await deliverAi([
      ...raters.flatMap((r) => [seed, ...targets].map((p) => liked(tenantId, r.userId, p.id, p.authorId))),
      ...[seed, x1, x2].map((p) => liked(tenantId, viewer.userId, p.id, p.authorId)),
    ]);
  });

  it("ranks the visible co-engaged posts first, a VIP post locked as feeds show it", async () => {
    const items = await allPosts(slug, viewer, "/v1/feeds/recommended");
    expect(
      items
        .slice(0, 2)
        .map((p) => p.id)
        .sort(),
    ).toEqual([control.id, vip.id].sort());
    expect(items.find((p) => p.id === vip.id)).toMatchObject({ locked: true, body: "" });
    // The seed's neighbours: every target through the raters, x1 and x2 through the viewer.
    const similar = await allPosts(slug, viewer, `/v1/posts/${seed.id}/similar`);
    expect(similar.map((p) => p.id).sort()).toEqual([control.id, vip.id, ...others.map((p) => p.id)].sort());
    expect(new Set(items.map((p) => p.id)).size).toBe(items.length);
  });

  it.each(HIDDEN)("%s: never in recommended or similar, and its similar answers as GET /v1/posts/{id}", async (k) => {
    const post = hidden[k];
    expect((await allPosts(slug, viewer, "/v1/feeds/recommended")).map((p) => p.id)).not.toContain(post.id);
    expect((await allPosts(slug, viewer, `/v1/posts/${seed.id}/similar`)).map((p) => p.id)).not.toContain(post.id);
    const get = await call(`/v1/posts/${post.id}`, as(slug, viewer));
    const similar = await call(`/v1/posts/${post.id}/similar`, as(slug, viewer));
    expect(similar.status).toBe(get.status);
    if (get.status === 404) expect((await similar.json<{ code: string }>()).code).toBe("post_not_found");
  });

  it("a new user gets the hot feed's order", async () => {
    const fresh = await registerUser(slug);
    const hot = await ids(await call("/v1/feeds/hot?limit=100", as(slug, fresh)));
    expect(hot.length).toBeGreaterThan(3);
    expect((await allPosts(slug, fresh, "/v1/feeds/recommended")).map((p) => p.id)).toEqual(hot);
    // A post nobody engaged with has no neighbours (and no norm row to read).
    const lone = await create(slug, fresh, { body: "lone" });
    expect(await ids(await call(`/v1/posts/${lone.id}/similar`, as(slug, fresh)))).toEqual([]);
  });
});

describe("the recommendations consumer", () => {
  it("keeps co-counts equal to a recomputation from scratch, and a second run changes nothing", async () => {
    const t = await tenantWithOwner();
    const users = Array.from({ length: 6 }, (_, i) => `u${i}`);
    const posts = Array.from({ length: 12 }, (_, i) => `p${i}`);
    const kinds = [
      ["post.viewed", 1],
      ["post.liked", 3],
      ["comment.created", 4],
      ["post.bookmarked", 5],
    ] as const;
    // A small deterministic generator, so a failure reproduces.
    let s = 42;
    const rnd = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
    const truth = new Map<string, number>();
    const events = Array.from({ length: 120 }, () => {
      const [u, p, [type, w]] = [users[rnd(6)]!, posts[rnd(12)]!, kinds[rnd(4)]!];
      truth.set(`${u}|${p}`, Math.max(truth.get(`${u}|${p}`) ?? 0, w));
      const data =
        type === "comment.created"
          ? { commentId: `c${rnd(1e6)}`, postId: p, postAuthorId: "author", authorId: u }
          : { postId: p, authorId: "author", userId: u };
      return recEvent(t.tenant.id, type, data);
    });
    // An author's interaction with their own post says nothing: skipped.
    events.push(recEvent(t.tenant.id, "post.liked", { postId: "p0", authorId: "u0", userId: "u0" }));
    await deliverAi(events);
    const first = await recTables(t.tenant.slug);

    const w = (u: string, p: string) => truth.get(`${u}|${p}`) ?? 0;
    const norms: Record<string, number> = {};
    const pairs: Record<string, number> = {};
    for (const p of posts) {
      const total = users.reduce((n, u) => n + w(u, p), 0);
      if (total) norms[p] = total;
      for (const q of posts) {
        const co = p === q ? 0 : users.reduce((n, u) => n + Math.min(w(u, p), w(u, q)), 0);
        if (co) pairs[`${p}|${q}`] = co;
      }
    }
    expect(first.weights).toEqual(Object.fromEntries(truth));
    expect(first.norms).toEqual(norms);
    expect(first.pairs).toEqual(pairs);

    await deliverAi(events);
    expect(await recTables(t.tenant.slug)).toEqual(first);
  });

  it("content emits post.bookmarked once per bookmark row inserted", async () => {
    const t = await tenantWithOwner();
    const slug = t.tenant.slug;
    const [author, reader] = await Promise.all([registerUser(slug), registerUser(slug)]);
    const post = await create(slug, author, { body: "keep" });
    const mark = (method: "PUT" | "DELETE") => call(`/v1/posts/${post.id}/bookmark`, { method, ...as(slug, reader) });
    await Promise.all([mark("PUT"), mark("PUT"), mark("PUT")]).then((all) => Promise.all(all.map(ok)));
    const events = async () => {
      const { db } = await tenantDbOf(slug);
      return db.all<{ data: string }>(sql`SELECT data FROM outbox WHERE type = 'post.bookmarked'`);
    };
    expect((await events()).map((e) => JSON.parse(e.data))).toEqual([
      { postId: post.id, authorId: author.userId, userId: reader.userId },
    ]);
    await ok(await mark("DELETE"));
    await ok(await mark("PUT"));
    expect(await events()).toHaveLength(2);
  });

  it("mirrors friendships both ways and forgets them on removal", async () => {
    const t = await tenantWithOwner();
    await deliverAi([recEvent(t.tenant.id, "friend.accepted", { userId: "a", friendId: "b", acceptedBy: "b" })]);
    expect((await recTables(t.tenant.slug)).edges).toEqual(["a>b", "b>a"]);
    await deliverAi([recEvent(t.tenant.id, "friend.removed", { userId: "b", friendId: "a" })]);
    expect((await recTables(t.tenant.slug)).edges).toEqual([]);
  });
});

interface Suggestion {
  user: { id: string; username: string | null; nickname: string; avatarFileId: string | null };
  mutualFriends: number;
  reason: string;
}

describe("GET /v1/users/suggested", () => {
  it("lists friends of friends with their mutual friends and shared interests, never an excluded user", async () => {
    const t = await tenantWithOwner();
    const slug = t.tenant.slug;
    const [me, f1, f2, fof, bl, blBy, pendOut, pendIn, fan] = await Promise.all(
      Array.from({ length: 9 }, () => registerUser(slug)),
    );
    for (const [a, b] of [
      [me, f1],
      [me, f2],
      [f1, f2],
      [f1, fof],
      [f2, fof],
      [f1, bl],
      [f1, blBy],
      [f1, pendOut],
      [f1, pendIn],
    ] as const)
      await befriend(slug, a!, b!);
    await ok(await call(`/v1/blocks/${bl!.userId}`, { method: "PUT", ...as(slug, me!) }));
    await ok(await call(`/v1/blocks/${me!.userId}`, { method: "PUT", ...as(slug, blBy!) }));
    const request = (from: User, to: User) =>
      call("/v1/friends/requests", { method: "POST", ...as(slug, from), json: { toUserId: to.userId } });
    await ok(await request(me!, pendOut!));
    await ok(await request(pendIn!, me!));
    // Shared interests: the fan and the blocked user engaged with the same posts as the caller.
    await deliverAi(["s1", "s2"].flatMap((p) => [me!, fan!, bl!].map((u) => liked(t.tenant.id, u.userId, p))));
    const excluded = [me, f1, f2, bl, blBy, pendOut, pendIn].map((u) => u!.userId);
    await vi.waitFor(
      async () => {
        const res = await call("/v1/users/suggested", as(slug, me!));
        expect(res.status, await res.clone().text()).toBe(200);
        const { items } = await res.json<{ items: Suggestion[] }>();
        expect(items.filter((i) => excluded.includes(i.user.id))).toEqual([]);
        expect(items.map((i) => [i.user.id, i.mutualFriends, i.reason])).toEqual([
          [fof!.userId, 2, "friends_of_friends"],
          [fan!.userId, 0, "shared_interests"],
        ]);
        expect(items[0]!.user).toMatchObject({ id: fof!.userId, username: fof!.username });
      },
      { timeout: 20_000, interval: 300 },
    );
  });
});
