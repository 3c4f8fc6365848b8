import { describe, expect, it, vi } from "vitest";
import { as, registerUser } from "./auth-helpers";
import { comment } from "./comment-helpers";
import { call } from "./helpers";
import { create, members, postTenant, type User } from "./post-helpers";

interface Item {
  type: string;
  title: string;
  body: string;
  count: number;
  actorId: string | null;
  data: Record<string, unknown>;
}

const inbox = async (slug: string, u: User) =>
  (await (await call("/v1/notifications?limit=100", as(slug, u))).json<{ items: Item[] }>()).items;
const eventually = <T>(fn: () => Promise<T>) => vi.waitFor(fn, { timeout: 20_000, interval: 250 });
const like = (slug: string, u: User, postId: string) =>
  call(`/v1/posts/${postId}/like`, { method: "PUT", ...as(slug, u) });

describe("content events: notifications and statistics", () => {
  it("a post's author hears of comments; a comment's author of replies; mentions reach who may see the post", async () => {
    const { slug } = await postTenant();
    const [author, b, c, outsider] = await members(slug, 4);
    const names = await Promise.all(
      [b, outsider].map(async (u) => (await (await call("/v1/me", as(slug, u))).json<{ username: string }>()).username),
    );
    const p = await create(slug, author, { body: "hello world" });
    const top = await comment(slug, b, p.id, "first comment");
    await comment(slug, c, p.id, `a reply for @${names[0]}`, top.id);
    await eventually(async () => {
      const got = await inbox(slug, author);
      expect(got.map((n) => n.type)).toEqual(["post_comment"]);
      expect(got[0]).toMatchObject({ count: 2, title: "2 new comments on your post" });
    });
    await eventually(async () => {
      const got = await inbox(slug, b);
      // The reply notifies b once (as a reply), not again as a mention.
      expect(got.map((n) => n.type)).toEqual(["comment_reply"]);
      expect(got[0]!.body).toBe(`a reply for @${names[0]}`);
      expect(got[0]!.data).toMatchObject({ postId: p.id });
    });
    // A private post's mention of someone who may not see it notifies no one.
    await create(slug, author, { body: `secret for @${names[1]}`, visibility: "private" });
    const pub = await create(slug, author, { body: `public for @${names[1]}` });
    await eventually(async () => {
      const got = await inbox(slug, outsider);
      expect(got.map((n) => [n.type, n.data.postId])).toEqual([["content_mention", pub.id]]);
    });
    // Nobody hears of their own comment.
    await comment(slug, author, p.id, "my own");
    await new Promise((r) => setTimeout(r, 1000));
    expect((await inbox(slug, author)).map((n) => n.count)).toEqual([2]);
  });

  it("likes coalesce: 'A and 12 others liked your post'; a muted type notifies nothing", async () => {
    const { slug } = await postTenant();
    const [author, quiet] = await members(slug, 2);
    const p = await create(slug, author, { body: "likeable" });
    const fans = await Promise.all(Array.from({ length: 13 }, () => registerUser(slug)));
    for (const fan of fans) expect((await like(slug, fan, p.id)).status).toBe(200);
    await eventually(async () => {
      const got = await inbox(slug, author);
      expect(got).toHaveLength(1);
      expect(got[0]).toMatchObject({ type: "post_like", count: 13 });
      expect(got[0]!.title).toMatch(/^.+ and 12 others liked your post$/);
      expect(got[0]!.actorId).toBe(fans[12]!.userId);
    });
    // The author likes their own post: no notification.
    expect((await like(slug, author, p.id)).status).toBe(200);
    const muted = await call("/v1/notifications/preferences", {
      method: "PUT",
      ...as(slug, quiet),
      json: { muted: ["post_like"] },
    });
    expect(muted.status).toBe(200);
    const q = await create(slug, quiet, { body: "no news please" });
    expect((await like(slug, author, q.id)).status).toBe(200);
    await comment(slug, author, q.id, "but comments are fine");
    await eventually(async () => expect((await inbox(slug, quiet)).map((n) => n.type)).toEqual(["post_comment"]));
  });

  it("statistics count posts, comments, likes and views per day", async () => {
    const { slug, owner } = await postTenant();
    const [a, b] = await members(slug, 2);
    const p = await create(slug, a, { body: "counted" });
    await create(slug, a, { body: "draft", status: "draft" });
    await comment(slug, b, p.id, "c1");
    await comment(slug, a, p.id, "c2");
    expect((await like(slug, b, p.id)).status).toBe(200);
    expect((await call(`/v1/posts/${p.id}/views`, { method: "POST", ...as(slug, b) })).status).toBe(200);
    expect((await call(`/v1/posts/${p.id}/views`, { method: "POST", ...as(slug, b) })).status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    await eventually(async () => {
      const res = await call(`/v1/admin/stats?from=${today}&to=${today}`, as(slug, owner as User));
      expect(res.status, await res.clone().text()).toBe(200);
      const totals = (await res.json<{ totals: Record<string, number> }>()).totals;
      expect(totals).toMatchObject({ posts: 1, comments: 2, likes: 1, views: 1 });
    });
  });
});
