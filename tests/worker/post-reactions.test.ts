import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { platformDb } from "../../src/db/client";
import { findTenantBySlug } from "../../src/db/platform/tenants";
import { tenantDb, tenantDbLocation } from "../../src/db/tenant-db";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { create, ids, type Post, postTenant, type User } from "./post-helpers";

const react = (slug: string, u: User, id: string, what: "like" | "bookmark", method: "PUT" | "DELETE") =>
  call(`/v1/posts/${id}/${what}`, { method, ...as(slug, u) });

async function okPost(res: Response): Promise<Post> {
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Post>();
}

async function likedEvents(slug: string, postId: string): Promise<number> {
  const row = await findTenantBySlug(platformDb(env), slug);
  const db = tenantDb(await tenantDbLocation(env, row!));
  const r = await db.get<{ n: number }>(
    sql`SELECT count(*) AS n FROM outbox WHERE type = 'post.liked' AND json_extract(data, '$.postId') = ${postId}`,
  );
  return Number(r?.n ?? 0);
}

describe("likes and bookmarks on posts", () => {
  let slug: string;
  let author: User;
  let other: User;

  beforeAll(async () => {
    ({ slug, author, other } = await postTenant());
  });

  it("twenty users liking at once make twenty likes", async () => {
    const p = await create(slug, author, { body: "popular" });
    const fans = await Promise.all(Array.from({ length: 20 }, () => registerUser(slug)));
    const results = await Promise.all(fans.map((f) => react(slug, f, p.id, "like", "PUT")));
    expect(results.map((r) => r.status)).toEqual(fans.map(() => 200));
    const seen = await okPost(await call(`/v1/posts/${p.id}`, as(slug, author)));
    expect(seen.counts.likes).toBe(20);
    expect(seen.viewer.liked).toBe(false);
    expect(await likedEvents(slug, p.id)).toBe(20);
    const res = await call(`/v1/posts/${p.id}/likes?limit=15`, as(slug, other));
    const page1 = await res.json<{ items: { userId: string; nickname: string }[]; nextCursor: string }>();
    expect(page1.items).toHaveLength(15);
    const res2 = await call(`/v1/posts/${p.id}/likes?limit=15&cursor=${page1.nextCursor}`, as(slug, other));
    const page2 = await res2.json<{ items: { userId: string }[]; nextCursor: string | null }>();
    expect(page2.nextCursor).toBeNull();
    expect(new Set([...page1.items, ...page2.items].map((i) => i.userId))).toEqual(new Set(fans.map((f) => f.userId)));
  });

  it("one user's ten parallel likes make one like and one post.liked; unlike after like gives 0", async () => {
    const p = await create(slug, author, { body: "once" });
    const results = await Promise.all(Array.from({ length: 10 }, () => react(slug, other, p.id, "like", "PUT")));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const seen = await okPost(await call(`/v1/posts/${p.id}`, as(slug, other)));
    expect(seen.counts.likes).toBe(1);
    expect(seen.viewer.liked).toBe(true);
    expect(await likedEvents(slug, p.id)).toBe(1);
    const off = await okPost(await react(slug, other, p.id, "like", "DELETE"));
    expect(off.counts.likes).toBe(0);
    expect(off.viewer.liked).toBe(false);
    // Removing what is not there is fine and changes nothing.
    const again = await okPost(await react(slug, other, p.id, "like", "DELETE"));
    expect(again.counts.likes).toBe(0);
    // Liking again counts again, but tells no one twice: one post.liked per user and post, ever.
    for (let i = 0; i < 3; i++) {
      expect((await okPost(await react(slug, other, p.id, "like", "PUT"))).counts.likes).toBe(1);
      expect((await okPost(await react(slug, other, p.id, "like", "DELETE"))).counts.likes).toBe(0);
    }
    expect(await likedEvents(slug, p.id)).toBe(1);
  });

  it("edits racing likes, comments, bookmarks and views keep every counter exact", async () => {
    const p = await create(slug, author, { body: "racing" });
    const fans = await Promise.all(Array.from({ length: 8 }, () => registerUser(slug)));
    const edits = Array.from({ length: 8 }, (_, i) =>
      call(`/v1/posts/${p.id}`, { method: "PATCH", ...as(slug, author), json: { body: `edit ${i}` } }),
    );
    const marks = fans.flatMap((f) => [
      react(slug, f, p.id, "like", "PUT"),
      react(slug, f, p.id, "bookmark", "PUT"),
      call(`/v1/posts/${p.id}/views`, { method: "POST", ...as(slug, f) }),
      call(`/v1/posts/${p.id}/comments`, { method: "POST", ...as(slug, f), json: { body: "hi" } }),
    ]);
    const results = await Promise.all([...edits, ...marks]);
    for (const r of results) expect([200, 201, 409]).toContain(r.status);
    const after = await okPost(await call(`/v1/posts/${p.id}`, as(slug, author)));
    expect(after.counts).toEqual({ likes: 8, bookmarks: 8, views: 8, comments: 8 });
  });

  it("bookmarks: counted, listed newest first, paged, and a deleted post leaves the list", async () => {
    const me = await registerUser(slug);
    const posts: Post[] = [];
    for (let i = 0; i < 5; i++) posts.push(await create(slug, author, { body: `b${i}` }));
    for (const p of posts) {
      const after = await okPost(await react(slug, me, p.id, "bookmark", "PUT"));
      expect(after.counts.bookmarks).toBe(1);
      expect(after.viewer.bookmarked).toBe(true);
      await new Promise((r) => setTimeout(r, 2));
    }
    await okPost(await react(slug, me, posts[0]!.id, "bookmark", "PUT"));
    const first = await call("/v1/me/bookmarks?limit=3", as(slug, me));
    const page1 = await first.clone().json<{ items: Post[]; nextCursor: string }>();
    expect(await ids(first)).toEqual([posts[4]!.id, posts[3]!.id, posts[2]!.id]);
    expect(page1.items.every((p) => p.viewer.bookmarked)).toBe(true);
    expect(await ids(await call(`/v1/me/bookmarks?limit=3&cursor=${page1.nextCursor}`, as(slug, me)))).toEqual([
      posts[1]!.id,
      posts[0]!.id,
    ]);
    expect((await call(`/v1/posts/${posts[3]!.id}`, { method: "DELETE", ...as(slug, author) })).status).toBe(204);
    await okPost(await react(slug, me, posts[2]!.id, "bookmark", "DELETE"));
    expect(await ids(await call("/v1/me/bookmarks", as(slug, me)))).toEqual([posts[4]!.id, posts[1]!.id, posts[0]!.id]);
    // Lists carry the viewer's marks too.
    const mine = await call(`/v1/users/${author.userId}/posts?limit=100`, as(slug, me));
    const items = (await mine.json<{ items: Post[] }>()).items;
    expect(items.find((p) => p.id === posts[4]!.id)?.viewer.bookmarked).toBe(true);
    expect(items.find((p) => p.id === posts[2]!.id)?.viewer.bookmarked).toBe(false);
  });

  it("a post the viewer may not see (private, blocked, missing) is 404 for like, bookmark and likes", async () => {
    const priv = await create(slug, author, { body: "mine", visibility: "private" });
    const pub = await create(slug, author, { body: "open" });
    const blocked = await registerUser(slug);
    expect((await call(`/v1/blocks/${blocked.userId}`, { method: "PUT", ...as(slug, author) })).status).toBe(204);
    const cases: [User, string][] = [
      [other, priv.id],
      [blocked, pub.id],
      [other, "no-such-post"],
    ];
    for (const [who, id] of cases) {
      await expectProblem(await react(slug, who, id, "like", "PUT"), 404, "post_not_found");
      await expectProblem(await react(slug, who, id, "like", "DELETE"), 404, "post_not_found");
      await expectProblem(await react(slug, who, id, "bookmark", "PUT"), 404, "post_not_found");
      await expectProblem(await call(`/v1/posts/${id}/likes`, as(slug, who)), 404, "post_not_found");
    }
    // The author may like their own private post.
    expect((await okPost(await react(slug, author, priv.id, "like", "PUT"))).counts.likes).toBe(1);
  });

  it("a bookmark of a post that became hidden leaves the list", async () => {
    const me = await registerUser(slug);
    const p = await create(slug, author, { body: "soon private" });
    await okPost(await react(slug, me, p.id, "bookmark", "PUT"));
    expect(await ids(await call("/v1/me/bookmarks", as(slug, me)))).toEqual([p.id]);
    const patch = await call(`/v1/posts/${p.id}`, {
      method: "PATCH",
      ...as(slug, author),
      json: { visibility: "private" },
    });
    expect(patch.status).toBe(200);
    expect(await ids(await call("/v1/me/bookmarks", as(slug, me)))).toEqual([]);
  });

  it("another tenant's post cannot be liked or bookmarked", async () => {
    const p = await create(slug, author, { body: "home" });
    const t2 = await tenantWithOwner();
    const stranger = await registerUser(t2.tenant.slug);
    await expectProblem(await react(t2.tenant.slug, stranger, p.id, "like", "PUT"), 404, "post_not_found");
    await expectProblem(await react(t2.tenant.slug, stranger, p.id, "bookmark", "PUT"), 404, "post_not_found");
    expect((await react(t2.tenant.slug, author, p.id, "like", "PUT")).status).toBe(401);
    expect((await okPost(await call(`/v1/posts/${p.id}`, as(slug, author)))).counts.likes).toBe(0);
  });
});
