import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { as, befriend, tenantWithOwner } from "./auth-helpers";
import { comment } from "./comment-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";
import { create, ids, members, type Post, postTenant, type User } from "./post-helpers";

const follow = async (slug: string, who: User, whom: User) =>
  expect((await call(`/v1/users/${whom.userId}/follow`, { method: "PUT", ...as(slug, who) })).status).toBe(200);

/** Every item of a paged list, following nextCursor (limit per page). */
async function walk(slug: string, u: User, path: string, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor = "";
  do {
    const sep = path.includes("?") ? "&" : "?";
    const res = await call(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, as(slug, u));
    expect(res.status, await res.clone().text()).toBe(200);
    const page = await res.json<{ items: Post[]; nextCursor: string | null }>();
    seen.push(...page.items.map((p) => p.id));
    cursor = page.nextCursor ?? "";
  } while (cursor);
  return seen;
}

describe("feeds: following, hot, tags; views", () => {
  it("the following feed: followed authors and one's own, by visibility, blocks, drafts and deletion", async () => {
    const { slug } = await postTenant();
    const [me, b, c, d] = await members(slug, 4);
    await follow(slug, me, b);
    await follow(slug, me, c);
    const mine = await create(slug, me, { body: "mine", visibility: "private" });
    const bPublic = await create(slug, b, { body: "b public" });
    const bFollowers = await create(slug, b, { body: "b followers", visibility: "followers" });
    const bFriends = await create(slug, b, { body: "b friends", visibility: "friends" });
    await create(slug, b, { body: "b private", visibility: "private" });
    await create(slug, b, { body: "b draft", status: "draft" });
    const cPost = await create(slug, c, { body: "c" });
    await create(slug, d, { body: "d, not followed" });
    const expected = [cPost.id, bFollowers.id, bPublic.id, mine.id];
    expect(await ids(await call("/v1/feeds/following", as(slug, me)))).toEqual(expected);
    await befriend(slug, me, b);
    expect(await ids(await call("/v1/feeds/following", as(slug, me)))).toEqual([
      cPost.id,
      bFriends.id,
      bFollowers.id,
      bPublic.id,
      mine.id,
    ]);
    expect((await call(`/v1/blocks/${me.userId}`, { method: "PUT", ...as(slug, c) })).status).toBe(204);
    expect((await call(`/v1/posts/${bPublic.id}`, { method: "DELETE", ...as(slug, b) })).status).toBe(204);
    expect(await ids(await call("/v1/feeds/following", as(slug, me)))).toEqual([bFriends.id, bFollowers.id, mine.id]);
  });

  it("the following feed's cursor is stable while new posts arrive", async () => {
    const { slug } = await postTenant();
    const [me, b] = await members(slug, 2);
    await follow(slug, me, b);
    const before: string[] = [];
    for (let i = 0; i < 7; i++) before.push((await create(slug, b, { body: `p${i}` })).id);
    const first = await call("/v1/feeds/following?limit=3", as(slug, me));
    const page1 = await first.json<{ items: Post[]; nextCursor: string }>();
    // New posts arrive between pages: they belong above page 1, never inside later pages.
    const later = await Promise.all([create(slug, b, { body: "new 1" }), create(slug, b, { body: "new 2" })]);
    const rest: string[] = [];
    let cursor: string | null = page1.nextCursor;
    while (cursor) {
      const res = await call(`/v1/feeds/following?limit=3&cursor=${cursor}`, as(slug, me));
      const page = await res.json<{ items: Post[]; nextCursor: string | null }>();
      rest.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor;
    }
    expect([...page1.items.map((p) => p.id), ...rest]).toEqual([...before].reverse());
    const fresh = await walk(slug, me, "/v1/feeds/following", 4);
    expect(fresh.slice(0, 2).sort()).toEqual(later.map((p) => p.id).sort());
    expect(fresh).toHaveLength(9);
  });

  it("the hot feed ranks by decayed engagement with the tenant's half-life", async () => {
    const t = await tenantWithOwner({ content: { hotHalfLifeHours: 24 } });
    const slug = t.tenant.slug;
    const [a, b, fan1, fan2, fan3] = await members(slug, 5);
    const old = await create(slug, a, { body: "old but loved" });
    const talked = await create(slug, b, { body: "talked about" });
    const quiet = await create(slug, a, { body: "quiet" });
    const secret = await create(slug, b, { body: "secret", visibility: "private" });
    for (const fan of [fan1, fan2, fan3])
      expect((await call(`/v1/posts/${old.id}/like`, { method: "PUT", ...as(slug, fan) })).status).toBe(200);
    await comment(slug, fan1, talked.id, "so true");
    // The loved post was published two hours ago.
    const { db } = await tenantDbOf(slug);
    await db.run(sql`UPDATE posts SET published_at = published_at - 7200000 WHERE id = ${old.id}`);
    const hot = await walk(slug, fan1, "/v1/feeds/hot", 1);
    // With a 24 h half-life two hours barely matter: 4 · 2^(−1/12) > 3 > 1.
    expect(hot).toEqual([old.id, talked.id, quiet.id]);
    expect(hot).not.toContain(secret.id);
    // A 15-minute half-life: two hours are 8 half-lives, 4/256 < 1: the loved post sinks.
    const patch = await call(`/admin/v1/tenants/${slug}`, {
      method: "PATCH",
      admin: true,
      json: { config: { content: { hotHalfLifeHours: 0.25 } } },
    });
    expect(patch.status, await patch.clone().text()).toBe(200);
    await new Promise((r) => setTimeout(r, 1100)); // the tenant cache's TTL in tests
    expect(await walk(slug, fan1, "/v1/feeds/hot", 2)).toEqual([talked.id, quiet.id, old.id]);
    // Blocks hide the blocked side's posts here too.
    expect((await call(`/v1/blocks/${b.userId}`, { method: "PUT", ...as(slug, fan2) })).status).toBe(204);
    expect(await walk(slug, fan2, "/v1/feeds/hot", 5)).toEqual([quiet.id, old.id]);
  });

  it("tag lists: case-folded tags, visibility, deletion", async () => {
    const { slug } = await postTenant();
    const [a, reader] = await members(slug, 2);
    const cats = await create(slug, a, { body: "meow", tags: ["Cats"] });
    const priv = await create(slug, a, { body: "hidden", tags: ["cats"], visibility: "private" });
    await create(slug, a, { body: "draft", tags: ["cats"], status: "draft" });
    const gone = await create(slug, a, { body: "gone", tags: ["cats", "dogs"] });
    expect((await call(`/v1/posts/${gone.id}`, { method: "DELETE", ...as(slug, a) })).status).toBe(204);
    expect(await ids(await call("/v1/tags/CATS/posts", as(slug, reader)))).toEqual([cats.id]);
    expect(await ids(await call("/v1/tags/cats/posts", as(slug, a)))).toEqual([priv.id, cats.id]);
    expect(await ids(await call("/v1/tags/dogs/posts", as(slug, a)))).toEqual([]);
    await expectProblem(await call(`/v1/tags/${"x".repeat(33)}/posts`, as(slug, a)), 400, "validation_failed");
    await expectProblem(await call("/v1/tags/a%07b/posts", as(slug, a)), 400, "invalid_parameter");
    await expectProblem(await call("/v1/tags/cats/posts?cursor=forged.x", as(slug, a)), 400, "invalid_cursor");
  });

  it("views count once per viewer per hour, never the author's, exactly under parallel calls", async () => {
    const { slug } = await postTenant();
    const [a, v1, v2, stranger] = await members(slug, 4);
    const p = await create(slug, a, { body: "look" });
    const view = (u: User, id = p.id) => call(`/v1/posts/${id}/views`, { method: "POST", ...as(slug, u) });
    const results = await Promise.all(Array.from({ length: 10 }, () => view(v1)));
    const bodies = await Promise.all(results.map((r) => r.json<{ counted: boolean; views: number }>()));
    expect(bodies.filter((b) => b.counted)).toHaveLength(1);
    expect(await (await view(v2)).json()).toEqual({ postId: p.id, views: 2, counted: true });
    expect(await (await view(a)).json()).toEqual({ postId: p.id, views: 2, counted: false });
    // An hour later the same viewer counts again.
    const { db } = await tenantDbOf(slug);
    await db.run(sql`UPDATE post_viewers SET counted_at = counted_at - 3600000 WHERE user_id = ${v1.userId}`);
    expect(await (await view(v1)).json()).toEqual({ postId: p.id, views: 3, counted: true });
    expect((await (await call(`/v1/posts/${p.id}`, as(slug, v2))).json<Post>()).counts.views).toBe(3);
    const priv = await create(slug, a, { body: "mine", visibility: "private" });
    await expectProblem(await view(stranger, priv.id), 404, "post_not_found");
    const other = await postTenant();
    const theirs = await create(other.slug, other.author, { body: "elsewhere" });
    await expectProblem(await view(stranger, theirs.id), 404, "post_not_found");
  });
});
