import { beforeAll, describe, expect, it } from "vitest";
import { as } from "./auth-helpers";
import { comment, del } from "./comment-helpers";
import { call } from "./helpers";
import { create, members, postTenant, type User } from "./post-helpers";
import { found, search } from "./search-helpers";

const comments = { type: "comments" };

describe("search: comments", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };

  beforeAll(async () => {
    ({ slug, owner } = await postTenant());
  });

  it("finds comments by CJK substring and Latin prefix, with the comment and a marked, escaped snippet", async () => {
    const [author, commenter, reader] = await members(slug, 3);
    const p = await create(slug, author, { body: "a post" });
    const zh = await comment(slug, commenter, p.id, "今天天气很好 <b>");
    const en = await comment(slug, commenter, p.id, "Marvellous weather");
    const page = await search(slug, reader, { q: "天气", ...comments });
    expect(page.items.map((h) => h.id)).toEqual([zh.id]);
    const hit = page.items[0]! as unknown as { type: string; snippet: string; comment: { postId: string } };
    expect(hit.type).toBe("comment");
    expect(hit.comment.postId).toBe(p.id);
    expect(hit.snippet).toContain("<mark>天气</mark>");
    expect(hit.snippet).toContain("&lt;b&gt;");
    expect(await found(slug, reader, "marvel", comments)).toEqual([en.id]);
    // Posts and comments are separate types.
    expect(await found(slug, reader, "marvel")).toEqual([]);
    expect(await found(slug, reader, "marvel", { ...comments, authorId: author.userId })).toEqual([]);
    expect(await found(slug, reader, "marvel", { ...comments, authorId: commenter.userId })).toEqual([en.id]);
  });

  it("deleted comments, deleted and hidden posts, and blocks leave the results at once", async () => {
    const [author, commenter, reader] = await members(slug, 3);
    const p = await create(slug, author, { body: "host" });
    const priv = await create(slug, author, { body: "secret host", visibility: "private" });
    const gone = await comment(slug, commenter, p.id, "zephyrword one");
    const kept = await comment(slug, commenter, p.id, "zephyrword two");
    const onPriv = await comment(slug, author, priv.id, "zephyrword three");
    expect((await found(slug, reader, "zephyrword", comments)).sort()).toEqual([gone.id, kept.id].sort());
    expect((await found(slug, author, "zephyrword", comments)).sort()).toEqual([gone.id, kept.id, onPriv.id].sort());
    expect((await del(slug, commenter, gone.id)).status).toBe(204);
    expect(await found(slug, reader, "zephyrword", comments)).toEqual([kept.id]);
    // A block either way hides the comment's author (and the post's author) from the reader.
    expect((await call(`/v1/blocks/${commenter.userId}`, { method: "PUT", ...as(slug, reader) })).status).toBe(204);
    expect(await found(slug, reader, "zephyrword", comments)).toEqual([]);
    // The post back to draft, then deleted: its comments go with it.
    const patch = await call(`/v1/posts/${p.id}`, { method: "PATCH", ...as(slug, author), json: { status: "draft" } });
    expect(patch.status).toBe(200);
    expect(await found(slug, author, "zephyrword", comments)).toEqual([onPriv.id]);
    expect((await call(`/v1/posts/${p.id}`, { method: "DELETE", ...as(slug, author) })).status).toBe(204);
    expect(await found(slug, author, "zephyrword", comments)).toEqual([onPriv.id]);
  });

  it("a rebuild keeps comments in the index", async () => {
    const [author, reader] = await members(slug, 2);
    const p = await create(slug, author, { body: "rebuilt host" });
    const c = await comment(slug, reader, p.id, "quillword survives");
    const res = await call("/v1/admin/search/rebuild", { method: "POST", ...as(slug, owner) });
    expect(res.status).toBe(202);
    let s = { rebuilding: true, documents: 0, rows: -1 };
    for (let i = 0; i < 50 && s.rebuilding; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await (await call("/v1/admin/search/status", as(slug, owner))).json();
    }
    expect(s.rebuilding).toBe(false);
    expect(s.documents).toBe(s.rows);
    expect(await found(slug, reader, "quillword", comments)).toEqual([c.id]);
  });
});
