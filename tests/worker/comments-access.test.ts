import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { as, befriend } from "./auth-helpers";
import { comment, threads } from "./comment-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";
import { create, members, postTenant, type User, VISIBILITIES } from "./post-helpers";

describe("comments: visibility, blocks, hostile input, events", () => {
  let slug: string;
  let author: User;
  let other: User;

  beforeAll(async () => {
    ({ slug, author, other } = await postTenant());
  });

  it("the visibility matrix on every comment route", async () => {
    const [writer, stranger, follower, friend, blocked] = await members(slug, 5);
    expect((await call(`/v1/users/${writer.userId}/follow`, { method: "PUT", ...as(slug, follower) })).status).toBe(
      200,
    );
    await befriend(slug, writer, friend);
    const posts = Object.fromEntries(
      await Promise.all(
        VISIBILITIES.map(async (v) => [v, (await create(slug, writer, { body: v, visibility: v })).id]),
      ),
    ) as Record<(typeof VISIBILITIES)[number], string>;
    // The author's own comment on each, made before the block so the blocked user has one to aim at.
    const own = Object.fromEntries(
      await Promise.all(VISIBILITIES.map(async (v) => [v, (await comment(slug, writer, posts[v], `on ${v}`)).id])),
    ) as Record<(typeof VISIBILITIES)[number], string>;
    expect((await call(`/v1/blocks/${blocked.userId}`, { method: "PUT", ...as(slug, writer) })).status).toBe(204);
    const sees: Record<string, { who: User; visible: string[] }> = {
      stranger: { who: stranger, visible: ["public"] },
      follower: { who: follower, visible: ["public", "followers"] },
      friend: { who: friend, visible: ["public", "friends"] },
      blocked: { who: blocked, visible: [] },
      author: { who: writer, visible: [...VISIBILITIES] },
    };
    for (const [name, { who, visible }] of Object.entries(sees)) {
      for (const v of VISIBILITIES) {
        const label = `${name} on ${v}`;
        const list = await call(`/v1/posts/${posts[v]}/comments`, as(slug, who));
        const post = await call(`/v1/posts/${posts[v]}/comments`, {
          method: "POST",
          ...as(slug, who),
          json: { body: "hi" },
        });
        const replies = await call(`/v1/comments/${own[v]}/replies`, as(slug, who));
        const like = await call(`/v1/comments/${own[v]}/like`, { method: "PUT", ...as(slug, who) });
        if (visible.includes(v)) {
          expect(list.status, label).toBe(200);
          expect(post.status, label).toBe(201);
          expect(replies.status, label).toBe(200);
          expect(like.status, label).toBe(200);
        } else {
          await expectProblem(list, 404, "post_not_found");
          await expectProblem(post, 404, "post_not_found");
          await expectProblem(replies, 404, "comment_not_found");
          await expectProblem(like, 404, "comment_not_found");
        }
      }
    }
  });

  it("blocks hide comments both ways; the post's author may still delete a blocked user's comment", async () => {
    const [writer, troll, reader] = await members(slug, 3);
    const p = await create(slug, writer, { body: "open to all" });
    const bad = await comment(slug, troll, p.id, "troll");
    const good = await comment(slug, reader, p.id, "nice");
    await comment(slug, troll, p.id, "troll reply", good.id);
    expect((await call(`/v1/blocks/${troll.userId}`, { method: "PUT", ...as(slug, reader) })).status).toBe(204);
    // The reader no longer sees the troll's comments, nor the troll the reader's.
    const seen = (await threads(slug, reader, p.id)).items;
    expect(seen.map((c) => c.id)).toEqual([good.id]);
    expect(seen[0]!.replies).toEqual([]);
    await expectProblem(
      await call(`/v1/comments/${bad.id}/like`, { method: "PUT", ...as(slug, reader) }),
      404,
      "comment_not_found",
    );
    expect((await threads(slug, troll, p.id)).items.map((c) => c.id)).toEqual([bad.id]);
    // Neither can answer the other's comment.
    await expectProblem(
      await call(`/v1/posts/${p.id}/comments`, {
        method: "POST",
        ...as(slug, troll),
        json: { body: "x", parentId: good.id },
      }),
      404,
      "comment_not_found",
    );
    // The writer blocks the troll too, and still removes the troll's comment from their post.
    expect((await call(`/v1/blocks/${troll.userId}`, { method: "PUT", ...as(slug, writer) })).status).toBe(204);
    expect((await call(`/v1/comments/${bad.id}`, { method: "DELETE", ...as(slug, writer) })).status).toBe(204);
  });

  it("hostile input: bodies, parents from elsewhere, drafts, other tenants' ids", async () => {
    const p = await create(slug, author, { body: "target" });
    const elsewhere = await create(slug, author, { body: "elsewhere" });
    const foreignParent = await comment(slug, other, elsewhere.id, "not here");
    const send = (json: unknown, postId = p.id) =>
      call(`/v1/posts/${postId}/comments`, { method: "POST", ...as(slug, other), json });
    for (const json of [
      {},
      { body: "" },
      { body: "   \n " },
      { body: "x".repeat(5001) },
      { body: "bell \u0007" },
      { body: "trojan \u202e" },
      { body: 42 },
      { body: "x", authorId: author.userId },
      { body: "x", parentId: "" },
      { body: "x", parentId: "p".repeat(65) },
    ])
      await expectProblem(await send(json), 400, "validation_failed");
    expect((await send({ body: "字".repeat(5000) })).status).toBe(201);
    await expectProblem(await send({ body: "x", parentId: foreignParent.id }), 404, "comment_not_found");
    await expectProblem(await send({ body: "x", parentId: "01nothing" }), 404, "comment_not_found");
    const malformed = await call(`/v1/posts/${p.id}/comments`, {
      method: "POST",
      ...as(slug, other),
      headers: { ...as(slug, other).headers, "content-type": "application/json" },
      body: '{"body": "x"',
    });
    expect(malformed.status).toBe(400);
    let deep: unknown = "x";
    for (let i = 0; i < 200; i++) deep = { body: deep };
    expect((await send(deep)).status).toBe(400);

    const draft = await create(slug, author, { body: "not yet", status: "draft" });
    const onDraft = await call(`/v1/posts/${draft.id}/comments`, {
      method: "POST",
      ...as(slug, author),
      json: { body: "early" },
    });
    await expectProblem(onDraft, 409, "post_not_published");
    await expectProblem(await send({ body: "x" }, draft.id), 404, "post_not_found");

    // Another tenant's post and comment are nothing here.
    const there = await postTenant();
    const theirPost = await create(there.slug, there.author, { body: "theirs" });
    const theirComment = await comment(there.slug, there.author, theirPost.id, "theirs");
    await expectProblem(await send({ body: "x" }, theirPost.id), 404, "post_not_found");
    await expectProblem(
      await call(`/v1/comments/${theirComment.id}/like`, { method: "PUT", ...as(slug, other) }),
      404,
      "comment_not_found",
    );
    await expectProblem(
      await call(`/v1/comments/${theirComment.id}`, { method: "DELETE", ...as(slug, other) }),
      404,
      "comment_not_found",
    );
    await expectProblem(await call("/v1/posts/nope/comments?sort=best", as(slug, other)), 400, "validation_failed");
  });

  it("comment.created and comment.liked go through the outbox once each", async () => {
    const p = await create(slug, author, { body: "events" });
    const c = await comment(slug, other, p.id, "event me");
    const reply = await comment(slug, author, p.id, "re", c.id);
    await Promise.all(
      Array.from({ length: 5 }, () => call(`/v1/comments/${c.id}/like`, { method: "PUT", ...as(slug, author) })),
    );
    const { db } = await tenantDbOf(slug);
    const rows = await db.all<{ type: string; data: string }>(
      sql`SELECT type, data FROM outbox WHERE json_extract(data, '$.postId') = ${p.id} ORDER BY created_at`,
    );
    const created = rows.filter((r) => r.type === "comment.created").map((r) => JSON.parse(r.data));
    expect(created).toHaveLength(2);
    expect(created[1]).toMatchObject({
      commentId: reply.id,
      parentId: c.id,
      replyToUserId: other.userId,
      postAuthorId: author.userId,
    });
    const liked = rows.filter((r) => r.type === "comment.liked").map((r) => JSON.parse(r.data));
    expect(liked).toEqual([{ commentId: c.id, postId: p.id, commentAuthorId: other.userId, userId: author.userId }]);
  });
});
