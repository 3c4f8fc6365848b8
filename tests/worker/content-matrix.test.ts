import { beforeAll, describe, expect, it } from "vitest";
import { as, befriend } from "./auth-helpers";
import { comment, threads } from "./comment-helpers";
import { call, expectProblem } from "./helpers";
import { create, ids, members, postTenant, type User, VISIBILITIES } from "./post-helpers";
import { found } from "./search-helpers";

type Visibility = (typeof VISIBILITIES)[number];
type Owner = { tokens: User["tokens"] };

/** Which of a writer's posts each kind of viewer may see (docs/content.md, "Visibility"). */
const MATRIX: Record<string, Visibility[]> = {
  stranger: ["public"],
  follower: ["public", "followers"],
  friend: ["public", "friends"],
  blocked: [],
  author: [...VISIBILITIES],
};

/**
 * A writer and one viewer of each kind, related as the matrix needs, and one post of each
 * visibility built by `make`. The block is left to the caller, so it can act before it.
 */
async function matrix(slug: string, make: (v: Visibility) => Record<string, unknown>) {
  const [writer, stranger, follower, friend, blocked] = await members(slug, 5);
  expect((await call(`/v1/users/${writer.userId}/follow`, { method: "PUT", ...as(slug, follower) })).status).toBe(200);
  await befriend(slug, writer, friend);
  const posts = Object.fromEntries(
    await Promise.all(VISIBILITIES.map(async (v) => [v, (await create(slug, writer, make(v))).id])),
  ) as Record<Visibility, string>;
  const viewers: Record<string, User> = { stranger, follower, friend, blocked, author: writer };
  const block = async () =>
    expect((await call(`/v1/blocks/${blocked.userId}`, { method: "PUT", ...as(slug, writer) })).status).toBe(204);
  return { writer, posts, viewers, block };
}

const suspend = async (slug: string, owner: Owner, u: User) => {
  const res = await call(`/v1/admin/users/${u.userId}/suspend`, { method: "POST", ...as(slug, owner) });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
};

const likers = async (slug: string, u: User, postId: string) => {
  const res = await call(`/v1/posts/${postId}/likes?limit=100`, as(slug, u));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json<{ items: { userId: string }[] }>()).items.map((l) => l.userId);
};

const like = async (slug: string, u: User, postId: string) =>
  expect((await call(`/v1/posts/${postId}/like`, { method: "PUT", ...as(slug, u) })).status).toBe(200);

describe("content: the visibility matrix across lists, and hostile bodies", () => {
  let slug: string;
  let owner: Owner;

  beforeAll(async () => {
    ({ slug, owner } = await postTenant());
  });

  it("the visibility matrix on the hot feed, tag lists, bookmarks, the likes list and search", async () => {
    const n = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
    const tag = `mx${n}`;
    const word = `matrixword${n}`;
    const { posts, viewers, block } = await matrix(slug, (v) => ({
      body: `${word} ${v}`,
      visibility: v,
      tags: [tag],
    }));
    const [fan] = await members(slug, 1);
    await like(slug, fan, posts.public);
    // Everyone bookmarks what they may see; the blocked user bookmarks the public post before the block.
    for (const [name, who] of Object.entries(viewers))
      for (const v of MATRIX[name === "blocked" ? "stranger" : name]!) {
        const res = await call(`/v1/posts/${posts[v]}/bookmark`, { method: "PUT", ...as(slug, who) });
        expect(res.status, `${name} bookmarks ${v}`).toBe(200);
      }
    await block();
    const mine = new Set(Object.values(posts));
    for (const [name, who] of Object.entries(viewers)) {
      const expected = MATRIX[name]!.map((v) => posts[v]).sort();
      const hot = (await ids(await call("/v1/feeds/hot?limit=100", as(slug, who)))).filter((id) => mine.has(id));
      expect(hot.sort(), `${name}: hot feed`).toEqual(expected);
      const tagged = await ids(await call(`/v1/tags/${tag}/posts?limit=100`, as(slug, who)));
      expect(tagged.sort(), `${name}: tag list`).toEqual(expected);
      const marked = await ids(await call("/v1/me/bookmarks?limit=100", as(slug, who)));
      expect(marked.sort(), `${name}: bookmarks`).toEqual(expected);
      expect((await found(slug, who, word, { limit: 100 })).sort(), `${name}: search`).toEqual(expected);
      const likes = await call(`/v1/posts/${posts.public}/likes`, as(slug, who));
      if (name === "blocked") await expectProblem(likes, 404, "post_not_found");
      else {
        expect(likes.status, `${name}: likes`).toBe(200);
        expect((await likes.json<{ items: { userId: string }[] }>()).items.map((l) => l.userId)).toEqual([fan.userId]);
      }
    }
  });

  it("the likes list hides likers blocked either way and inactive likers", async () => {
    const [author, viewer, l1, l2, l3] = await members(slug, 5);
    const [plain] = await members(slug, 1);
    const p = await create(slug, author, { body: "liked by many" });
    for (const u of [l1, l2, l3, plain]) await like(slug, u, p.id);
    expect((await call(`/v1/blocks/${l1.userId}`, { method: "PUT", ...as(slug, viewer) })).status).toBe(204);
    expect((await call(`/v1/blocks/${viewer.userId}`, { method: "PUT", ...as(slug, l2) })).status).toBe(204);
    await suspend(slug, owner, l3);
    // The viewer blocked l1, l2 blocked the viewer, l3 is suspended: only the plain liker is left.
    expect(await likers(slug, viewer, p.id)).toEqual([plain.userId]);
    // The author has no block with either: l1 and l2 stay, the suspended l3 does not.
    expect((await likers(slug, author, p.id)).sort()).toEqual([l1.userId, l2.userId, plain.userId].sort());
  });

  it("comments by suspended users are hidden", async () => {
    const [author, s, reader] = await members(slug, 3);
    const p = await create(slug, author, { body: "commented on" });
    const c = await comment(slug, s, p.id, "soon suspended");
    const kept = await comment(slug, reader, p.id, "still here");
    await suspend(slug, owner, s);
    expect((await threads(slug, reader, p.id)).items.map((x) => x.id)).toEqual([kept.id]);
    await expectProblem(
      await call(`/v1/comments/${c.id}/like`, { method: "PUT", ...as(slug, reader) }),
      404,
      "comment_not_found",
    );
  });

  it("search type=comments follows the post's visibility matrix", async () => {
    const word = `matrixnote${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const { writer, posts, viewers, block } = await matrix(slug, (v) => ({ body: v, visibility: v }));
    const notes = Object.fromEntries(
      await Promise.all(VISIBILITIES.map(async (v) => [v, (await comment(slug, writer, posts[v], `${word} ${v}`)).id])),
    ) as Record<Visibility, string>;
    await block();
    for (const [name, who] of Object.entries(viewers)) {
      const hits = await found(slug, who, word, { type: "comments", limit: 100 });
      expect(hits.sort(), name).toEqual(MATRIX[name]!.map((v) => notes[v]).sort());
    }
  });

  it("malformed and oversized bodies are 4xx problems, never 500", async () => {
    const [author] = await members(slug, 1);
    const p = await create(slug, author, { body: "target" });
    const raw = (method: string, path: string, body: string) =>
      call(path, {
        method,
        tenant: slug,
        headers: { ...as(slug, author).headers, "content-type": "application/json" },
        body,
      });
    let deep: unknown = "x";
    for (let i = 0; i < 200; i++) deep = { body: deep };
    // What the gateway and the schemas answer: syntax and depth are the body guard's, size and shape the schema's.
    const bodies: [string, string, number, string][] = [
      ["not JSON", '{"body":', 400, "malformed_json"],
      ["200 levels deep", JSON.stringify(deep), 400, "invalid_body"],
      ["100,001 characters", JSON.stringify({ body: "x".repeat(100_001) }), 400, "validation_failed"],
      ["an array", JSON.stringify([{ body: "x" }]), 400, "validation_failed"],
    ];
    for (const [label, body, status, code] of bodies)
      for (const [method, path] of [
        ["POST", "/v1/posts"],
        ["PATCH", `/v1/posts/${p.id}`],
      ] as const) {
        const res = await raw(method, path, body);
        expect(res.status, `${method} ${label}`).toBe(status);
        await expectProblem(res, status, code);
      }
    const reports = `/v1/posts/${p.id}/reports`;
    await expectProblem(await raw("POST", reports, '{"reason":"spam"'), 400, "malformed_json");
    await expectProblem(
      await raw("POST", reports, JSON.stringify({ reason: "spam", detail: "x".repeat(1001) })),
      400,
      "validation_failed",
    );
    // The post is untouched by every refused PATCH.
    expect((await (await call(`/v1/posts/${p.id}`, as(slug, author))).json<{ body: string }>()).body).toBe("target");
  });
});
