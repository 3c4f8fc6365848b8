import { beforeAll, describe, expect, it } from "vitest";
import { as, registerUser } from "./auth-helpers";
import {
  commerceTenant,
  credit,
  type Order,
  order,
  type Product,
  product,
  refund,
  type User,
} from "./commerce-helpers";
import { call, expectProblem } from "./helpers";
import type { Post } from "./post-helpers";
import { search } from "./search-helpers";

type Viewer = "stranger" | "silver" | "gold" | "unlocked" | "tagUnlocked" | "author";

/**
 * VIP-only posts: the title, tags and counts are public; body, media and comments are for the
 * post's level (or an unlock, or its author) on every surface that shows a post.
 */
describe("VIP-only posts", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let author: User;
  let post: Post;
  let plain: Post;
  const who = {} as Record<Viewer, User>;
  let unlock: Product;
  let unlockOrder: Order;

  const buy = async (u: User, p: Product) => {
    const res = await order(slug, u, [{ productId: p.id }]);
    expect(res.status, await res.clone().text()).toBe(201);
    return res.json<Order>();
  };

  beforeAll(async () => {
    ({ slug, owner } = await commerceTenant());
    author = await registerUser(slug);
    const created = await call("/v1/posts", {
      method: "POST",
      ...as(slug, author),
      json: {
        title: "Gold-only walkthrough",
        body: "the secret zanzibar route",
        tags: ["guides"],
        visibility: "vip",
        minVipLevel: 2,
      },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    post = await created.json<Post>();
    plain = await (
      await call("/v1/posts", {
        method: "POST",
        ...as(slug, author),
        json: { title: "Open", body: "zanzibar for all", tags: ["guides"] },
      })
    ).json<Post>();
    const silver = await product(slug, owner, {
      kind: "vip",
      price: { amount: 100, currency: "CNY" },
      grants: { level: 1, days: 30 },
    });
    const gold = await product(slug, owner, {
      kind: "vip",
      price: { amount: 300, currency: "CNY" },
      grants: { level: 2, days: 30 },
    });
    unlock = await product(slug, owner, {
      kind: "content",
      price: { amount: 50, currency: "CNY" },
      grants: { postId: post.id },
    });
    const byTag = await product(slug, owner, {
      kind: "content",
      price: { amount: 80, currency: "CNY" },
      grants: { tag: "Guides" },
    });
    for (const v of ["stranger", "silver", "gold", "unlocked", "tagUnlocked"] as const) {
      who[v] = await registerUser(slug);
      await credit(slug, who[v].userId, 1000n);
    }
    who.author = author;
    await buy(who.silver, silver);
    await buy(who.gold, gold);
    unlockOrder = await buy(who.unlocked, unlock);
    await buy(who.tagUnlocked, byTag);
    // Everyone bookmarks and follows, so the bookmark and following lists carry the post too.
    for (const v of ["stranger", "silver", "gold", "unlocked", "tagUnlocked"] as const) {
      expect((await call(`/v1/posts/${post.id}/bookmark`, { method: "PUT", ...as(slug, who[v]) })).status).toBe(200);
      expect(
        (await call(`/v1/users/${author.userId}/follow`, { method: "PUT", ...as(slug, who[v]) })).status,
      ).toBeLessThan(300);
    }
  });

  const readers: Record<Viewer, boolean> = {
    stranger: false,
    silver: false,
    gold: true,
    unlocked: true,
    tagUnlocked: true,
    author: true,
  };

  /** Every surface that shows the post, as this viewer sees it there. */
  async function surfaces(u: User): Promise<[string, Post | undefined][]> {
    const list = async (path: string) =>
      (await (await call(path, as(slug, u))).json<{ items: Post[] }>()).items.find((p) => p.id === post.id);
    const hits = await search(slug, u, { q: "walkthrough" });
    return [
      ["GET /v1/posts/{id}", await (await call(`/v1/posts/${post.id}`, as(slug, u))).json<Post>()],
      ["user's posts", await list(`/v1/users/${author.userId}/posts`)],
      ["tag list", await list("/v1/tags/guides/posts")],
      ["hot feed", await list("/v1/feeds/hot")],
      ...(u === author
        ? []
        : ([
            ["following feed", await list("/v1/feeds/following")],
            ["bookmarks", await list("/v1/me/bookmarks")],
          ] as [string, Post | undefined][])),
      ["search", hits.items.find((h) => h.id === post.id)?.post],
    ];
  }

  for (const v of Object.keys(readers) as Viewer[]) {
    it(`${v}: ${readers[v] ? "reads" : "sees the title of"} the post everywhere`, async () => {
      for (const [where, p] of await surfaces(who[v])) {
        expect(p, where).toBeDefined();
        expect(p, where).toMatchObject({
          id: post.id,
          title: "Gold-only walkthrough",
          visibility: "vip",
          minVipLevel: 2,
          tags: ["guides"],
        });
        expect((p as Post & { locked: boolean }).locked, where).toBe(!readers[v]);
        expect(p!.body, where).toBe(readers[v] ? "the secret zanzibar route" : "");
      }
      const comments = await call(`/v1/posts/${post.id}/comments`, as(slug, who[v]));
      if (readers[v]) expect(comments.status).toBe(200);
      else await expectProblem(comments, 403, "vip_required");
      const write = await call(`/v1/posts/${post.id}/comments`, {
        method: "POST",
        ...as(slug, who[v]),
        json: { body: "hi" },
      });
      if (readers[v]) expect(write.status).toBe(201);
      else await expectProblem(write, 403, "vip_required");
    });
  }

  it("search never matches or shows the body of a VIP post, nor its comments", async () => {
    const hits = await search(slug, who.gold, { q: "zanzibar" });
    expect(hits.items.map((h) => h.id)).toEqual([plain.id]);
    for (const h of (await search(slug, who.stranger, { q: "walkthrough" })).items)
      expect(h.snippet).not.toContain("zanzibar");
    await call(`/v1/posts/${post.id}/comments`, {
      method: "POST",
      ...as(slug, who.gold),
      json: { body: "quokka spotted" },
    });
    expect((await search(slug, who.gold, { q: "quokka", type: "comments" })).items).toEqual([]);
  });

  it("a refund of the content product locks the post again; the post can still be reported", async () => {
    expect((await refund(slug, owner, unlockOrder.id)).status).toBe(200);
    const p = await (await call(`/v1/posts/${post.id}`, as(slug, who.unlocked))).json<Post & { locked: boolean }>();
    expect(p.locked).toBe(true);
    const report = await call(`/v1/posts/${post.id}/reports`, {
      method: "POST",
      ...as(slug, who.unlocked),
      json: { reason: "spam" },
    });
    expect(report.status).toBe(201);
  });

  it("visibility vip needs minVipLevel, and minVipLevel needs vip; switching back unlocks", async () => {
    for (const json of [
      { body: "x", visibility: "vip" },
      { body: "x", minVipLevel: 1 },
      { body: "x", visibility: "public", minVipLevel: 1 },
      { body: "x", visibility: "vip", minVipLevel: 0 },
      { body: "x", visibility: "vip", minVipLevel: 1.5 },
    ]) {
      await expectProblem(
        await call("/v1/posts", { method: "POST", ...as(slug, author), json }),
        400,
        "validation_failed",
      );
    }
    const p = await (
      await call("/v1/posts", {
        method: "POST",
        ...as(slug, author),
        json: { body: "later", visibility: "vip", minVipLevel: 3 },
      })
    ).json<Post>();
    expect((await (await call(`/v1/posts/${p.id}`, as(slug, who.gold))).json<{ locked: boolean }>()).locked).toBe(true);
    const open = await call(`/v1/posts/${p.id}`, {
      method: "PATCH",
      ...as(slug, author),
      json: { visibility: "public" },
    });
    expect(await open.json()).toMatchObject({ visibility: "public", locked: false });
    expect((await (await call(`/v1/posts/${p.id}`, as(slug, who.stranger))).json<Post>()).body).toBe("later");
  });
});
