import { beforeAll, describe, expect, it } from "vitest";
import { as, registerUser } from "./auth-helpers";
import { comment, commentCount, type Comment, del, threads } from "./comment-helpers";
import { call, expectProblem } from "./helpers";
import { create, postTenant, type User } from "./post-helpers";

describe("comments: two levels, sorting, tombstones", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let author: User;
  let other: User;

  beforeAll(async () => {
    ({ slug, owner, author, other } = await postTenant());
  });

  it("a reply to a reply attaches to the top-level comment and names whom it answers", async () => {
    const p = await create(slug, author, { body: "thread" });
    const top = await comment(slug, other, p.id, "first!");
    expect(top).toMatchObject({ postId: p.id, parentId: null, replyToUserId: null, authorId: other.userId });
    expect(top.author?.id).toBe(other.userId);
    const reply = await comment(slug, author, p.id, "thanks", top.id);
    expect(reply).toMatchObject({ parentId: top.id, replyToUserId: other.userId });
    const deeper = await comment(slug, other, p.id, "you're welcome", reply.id);
    expect(deeper).toMatchObject({ parentId: top.id, replyToUserId: author.userId });
    expect(await commentCount(slug, author, p.id)).toBe(3);

    const { items } = await threads(slug, author, p.id);
    expect(items.map((c) => c.id)).toEqual([top.id]);
    expect(items[0]!.counts.replies).toBe(2);
    expect(items[0]!.replies!.map((r) => r.id)).toEqual([reply.id, deeper.id]);

    const replies = await call(`/v1/comments/${top.id}/replies?limit=1`, as(slug, other));
    expect(replies.status).toBe(200);
    const page1 = await replies.json<{ items: Comment[]; nextCursor: string }>();
    expect(page1.items.map((c) => c.id)).toEqual([reply.id]);
    const page2 = await (
      await call(`/v1/comments/${top.id}/replies?limit=1&cursor=${page1.nextCursor}`, as(slug, other))
    ).json<{ items: Comment[]; nextCursor: string | null }>();
    expect(page2.items.map((c) => c.id)).toEqual([deeper.id]);
  });

  it("lists carry the first 3 replies; sort oldest, newest and top page without gaps", async () => {
    const p = await create(slug, author, { body: "sorting" });
    const tops: Comment[] = [];
    for (let i = 0; i < 5; i++) tops.push(await comment(slug, other, p.id, `top ${i}`));
    for (let i = 0; i < 4; i++) await comment(slug, author, p.id, `reply ${i}`, tops[0]!.id);
    const liker = await registerUser(slug);
    for (const [who, c] of [
      [author, tops[3]!],
      [liker, tops[3]!],
      [author, tops[1]!],
    ] as const) {
      expect((await call(`/v1/comments/${c.id}/like`, { method: "PUT", ...as(slug, who) })).status).toBe(200);
    }
    const walk = async (sort: string) => {
      const seen: string[] = [];
      let cursor = "";
      do {
        const page = await threads(slug, other, p.id, `?sort=${sort}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor ?? "";
      } while (cursor);
      return seen;
    };
    const ids = tops.map((c) => c.id);
    expect(await walk("oldest")).toEqual(ids);
    expect(await walk("newest")).toEqual([...ids].reverse());
    const top = await walk("top");
    expect(top.slice(0, 2)).toEqual([ids[3], ids[1]]);
    expect(top.sort()).toEqual([...ids].sort());

    const first = (await threads(slug, other, p.id)).items[0]!;
    expect(first.counts.replies).toBe(4);
    expect(first.replies!.map((r) => r.body)).toEqual(["reply 0", "reply 1", "reply 2"]);
  });

  it("a deleted comment with replies stays as a tombstone until its replies are gone", async () => {
    const p = await create(slug, author, { body: "tombstones" });
    const top = await comment(slug, other, p.id, "to be deleted");
    const r1 = await comment(slug, author, p.id, "reply", top.id);
    const lone = await comment(slug, other, p.id, "lonely");
    expect((await del(slug, other, top.id)).status).toBe(204);
    expect((await del(slug, other, lone.id)).status).toBe(204);
    let { items } = await threads(slug, author, p.id);
    expect(items.map((c) => c.id)).toEqual([top.id]);
    expect(items[0]).toMatchObject({ deleted: true, authorId: null, author: null, body: "" });
    expect(items[0]!.replies!.map((r) => r.id)).toEqual([r1.id]);
    expect(await commentCount(slug, author, p.id)).toBe(1);
    // A tombstone cannot be answered, liked or deleted again.
    await expectProblem(
      await call(`/v1/posts/${p.id}/comments`, {
        method: "POST",
        ...as(slug, author),
        json: { body: "x", parentId: top.id },
      }),
      404,
      "comment_not_found",
    );
    await expectProblem(
      await call(`/v1/comments/${top.id}/like`, { method: "PUT", ...as(slug, author) }),
      404,
      "comment_not_found",
    );
    await expectProblem(await del(slug, other, top.id), 404, "comment_not_found");
    // The last reply goes: so does the tombstone.
    expect((await del(slug, author, r1.id)).status).toBe(204);
    ({ items } = await threads(slug, author, p.id));
    expect(items).toEqual([]);
    expect(await commentCount(slug, author, p.id)).toBe(0);
    await expectProblem(await call(`/v1/comments/${top.id}/replies`, as(slug, author)), 404, "comment_not_found");
  });

  it("who may delete: the comment's author, the post's author, a moderator; others 403", async () => {
    const p = await create(slug, author, { body: "moderation" });
    const third = await registerUser(slug);
    const [a, b, c] = await Promise.all([
      comment(slug, other, p.id, "a"),
      comment(slug, other, p.id, "b"),
      comment(slug, third, p.id, "c"),
    ]);
    await expectProblem(await del(slug, third, a.id), 403, "forbidden");
    expect((await del(slug, author, a.id)).status).toBe(204);
    expect((await del(slug, third, c.id)).status).toBe(204);
    expect((await threads(slug, author, p.id)).items.map((x) => x.id)).toEqual([b.id]);
    // The tenant owner holds comments:moderate (its role has `*`).
    expect((await del(slug, owner as User, b.id)).status).toBe(204);
    expect(await commentCount(slug, author, p.id)).toBe(0);
  });

  it("comment likes are idempotent and exact under parallel requests", async () => {
    const p = await create(slug, author, { body: "likes" });
    const c = await comment(slug, other, p.id, "like me");
    const users = await Promise.all(Array.from({ length: 10 }, () => registerUser(slug)));
    await Promise.all(users.map((u) => call(`/v1/comments/${c.id}/like`, { method: "PUT", ...as(slug, u) })));
    await Promise.all(
      Array.from({ length: 10 }, () => call(`/v1/comments/${c.id}/like`, { method: "PUT", ...as(slug, author) })),
    );
    const liked = await call(`/v1/comments/${c.id}/like`, { method: "PUT", ...as(slug, author) });
    const body = await liked.json<Comment>();
    expect(body.counts.likes).toBe(11);
    expect(body.viewer.liked).toBe(true);
    const unliked = await (
      await call(`/v1/comments/${c.id}/like`, { method: "DELETE", ...as(slug, author) })
    ).json<Comment>();
    expect(unliked).toMatchObject({ counts: { likes: 10 }, viewer: { liked: false } });
    const again = await call(`/v1/comments/${c.id}/like`, { method: "DELETE", ...as(slug, author) });
    expect((await again.json<Comment>()).counts.likes).toBe(10);
  });

  it("parallel comments count exactly, and racing deletes decrement once", async () => {
    const p = await create(slug, author, { body: "race" });
    const users = await Promise.all(Array.from({ length: 20 }, () => registerUser(slug)));
    const made = await Promise.all(users.map((u, i) => comment(slug, u, p.id, `c${i}`)));
    expect(await commentCount(slug, author, p.id)).toBe(20);
    const top = made[0]!;
    const reply = await comment(slug, author, p.id, "r", top.id);
    const results = await Promise.all(Array.from({ length: 6 }, () => del(slug, author, reply.id)));
    expect(results.filter((r) => r.status === 204).length).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([204, 404]).toContain(r.status);
    expect(await commentCount(slug, author, p.id)).toBe(20);
    expect((await threads(slug, author, p.id, "?limit=1")).items[0]!.counts.replies).toBe(0);
  });
});
