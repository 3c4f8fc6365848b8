import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { type Comment, comment, threads } from "./comment-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";
import { create, ids, moderator, type Post, type User } from "./post-helpers";
import { found } from "./search-helpers";

/** A tenant whose moderation hook has this mode over the word "verboten", with two members and a moderator. */
async function hooked(mode: "block" | "mask" | "review") {
  const t = await tenantWithOwner({ messages: { moderation: { mode, words: ["verboten"] } } });
  const slug = t.tenant.slug;
  const [author, reader] = await Promise.all([registerUser(slug), registerUser(slug)]);
  return { slug, author, reader, mod: await moderator(slug, t.owner) };
}

const post = (slug: string, u: User, json: unknown) => call("/v1/posts", { method: "POST", ...as(slug, u), json });

describe("the moderation hook on posts and comments", () => {
  it("block refuses posts, edits and comments with 422 content_blocked, storing nothing", async () => {
    const { slug, author } = await hooked("block");
    await expectProblem(await post(slug, author, { body: "this is VERBOTEN" }), 422, "content_blocked");
    await expectProblem(await post(slug, author, { title: "verboten", body: "fine" }), 422, "content_blocked");
    await expectProblem(await post(slug, author, { body: "fine", tags: ["ok", "Verboten"] }), 422, "content_blocked");
    const ok = await create(slug, author, { body: "fine" });
    await expectProblem(
      await call(`/v1/posts/${ok.id}`, { method: "PATCH", ...as(slug, author), json: { body: "verboten now" } }),
      422,
      "content_blocked",
    );
    await expectProblem(
      await call(`/v1/posts/${ok.id}/comments`, { method: "POST", ...as(slug, author), json: { body: "verboten" } }),
      422,
      "content_blocked",
    );
    expect(await ids(await call("/v1/me/posts", as(slug, author)))).toEqual([ok.id]);
    expect((await (await call(`/v1/posts/${ok.id}`, as(slug, author))).json<Post>()).body).toBe("fine");
  });

  it("mask stores the text with the match starred out", async () => {
    const { slug, author, reader } = await hooked("mask");
    const p = await create(slug, author, { title: "Verboten title", body: "a verboten word" });
    expect(p).toMatchObject({ title: "******** title", body: "a ******** word", status: "published" });
    // A tag the mask would star is dropped: a starred tag names nothing.
    expect((await create(slug, author, { body: "tagged", tags: ["cats", "verboten"] })).tags).toEqual(["cats"]);
    const c = await comment(slug, reader, p.id, "so verboten");
    expect(c.body).toBe("so ********");
  });

  it("review holds posts and comments for a moderator: hidden from others until approved", async () => {
    const { slug, author, reader, mod } = await hooked("review");
    const tagged = await create(slug, author, { body: "clean", tags: ["verboten"] });
    expect(tagged.status).toBe("under_review");
    const p = await create(slug, author, { body: "reviewme verboten" });
    expect(p).toMatchObject({ status: "under_review", publishedAt: null });
    await expectProblem(await call(`/v1/posts/${p.id}`, as(slug, reader)), 404, "post_not_found");
    expect((await (await call(`/v1/posts/${p.id}`, as(slug, mod))).json<Post>()).status).toBe("under_review");
    expect(await found(slug, reader, "reviewme")).toEqual([]);
    expect(await ids(await call("/v1/admin/posts", as(slug, mod)))).toEqual([tagged.id, p.id]);
    await expectProblem(
      await call(`/v1/admin/posts/${p.id}/approve`, { method: "POST", ...as(slug, reader) }),
      403,
      "forbidden",
    );
    const approved = await call(`/v1/admin/posts/${p.id}/approve`, { method: "POST", ...as(slug, mod) });
    const after = await approved.json<Post>();
    expect(after.status).toBe("published");
    expect(after.publishedAt).not.toBeNull();
    expect((await call(`/v1/posts/${p.id}`, as(slug, reader))).status).toBe(200);
    expect(await found(slug, reader, "reviewme")).toEqual([p.id]);
    const { db } = await tenantDbOf(slug);
    const ev = await db.get<{ n: number }>(
      sql`SELECT count(*) AS n FROM outbox WHERE type = 'post.published' AND json_extract(data, '$.postId') = ${p.id}`,
    );
    expect(Number(ev?.n)).toBe(1);

    // An edit the hook holds takes the published post under review again.
    const edit = await call(`/v1/posts/${p.id}`, {
      method: "PATCH",
      ...as(slug, author),
      json: { body: "still verboten" },
    });
    expect((await edit.json<Post>()).status).toBe("under_review");
    await expectProblem(await call(`/v1/posts/${p.id}`, as(slug, reader)), 404, "post_not_found");

    // A held comment: its author sees it (status under_review); others do not, until approved.
    const open = await create(slug, reader, { body: "clean post" });
    const held = await comment(slug, author, open.id, "verboten comment");
    expect(held.status).toBe("under_review");
    expect((await threads(slug, author, open.id)).items.map((c) => c.id)).toEqual([held.id]);
    expect((await threads(slug, reader, open.id)).items).toEqual([]);
    await expectProblem(
      await call(`/v1/comments/${held.id}/like`, { method: "PUT", ...as(slug, reader) }),
      404,
      "comment_not_found",
    );
    const queue = await (await call("/v1/admin/comments", as(slug, mod))).json<{ items: Comment[] }>();
    expect(queue.items.map((c) => c.id)).toEqual([held.id]);
    const ok = await call(`/v1/admin/comments/${held.id}/approve`, { method: "POST", ...as(slug, mod) });
    expect((await ok.json<Comment>()).status).toBe("published");
    expect((await threads(slug, reader, open.id)).items.map((c) => c.id)).toEqual([held.id]);
    expect(await found(slug, reader, "verboten", { type: "comments" })).toEqual([held.id]);
    // Approving it again answers it as it is; a draft stays a draft under review mode.
    expect((await call(`/v1/admin/comments/${held.id}/approve`, { method: "POST", ...as(slug, mod) })).status).toBe(
      200,
    );
    const draft = await create(slug, author, { body: "verboten draft", status: "draft" });
    expect(draft.status).toBe("draft");
    // Publishing the draft without touching its text is still held.
    const publish = await call(`/v1/posts/${draft.id}`, {
      method: "PATCH",
      ...as(slug, author),
      json: { status: "published" },
    });
    expect((await publish.json<Post>()).status).toBe("under_review");
    await expectProblem(await call(`/v1/posts/${draft.id}`, as(slug, reader)), 404, "post_not_found");
  });
});
