import { beforeAll, describe, expect, it } from "vitest";
import { as, tenantWithOwner, registerUser } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { create, ids, type Post, publishedEvents, postTenant, upload, type User } from "./post-helpers";

describe("posts", () => {
  let slug: string;
  let author: User;
  let other: User;

  beforeAll(async () => {
    ({ slug, author, other } = await postTenant());
  });

  it("create, get, patch and delete round trip (edits keep createdAt, set updatedAt and editedAt)", async () => {
    const p = await create(slug, author, {
      title: "Hello",
      body: "# Hi\n\nsome *markdown*",
      tags: [" Cats ", "cats", "DOGS"],
    });
    expect(p).toMatchObject({
      authorId: author.userId,
      author: { id: author.userId },
      title: "Hello",
      tags: ["cats", "dogs"],
      media: [],
      visibility: "public",
      status: "published",
      editedAt: null,
      counts: { likes: 0, comments: 0, bookmarks: 0 },
      viewer: { liked: false, bookmarked: false },
    });
    expect(p.publishedAt).toBe(p.createdAt);
    const got = await call(`/v1/posts/${p.id}`, as(slug, other));
    expect(got.status).toBe(200);
    expect(await got.json<Post>()).toEqual(p);

    const patched = await call(`/v1/posts/${p.id}`, {
      method: "PATCH",
      ...as(slug, author),
      json: { body: "changed" },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    const q = await patched.json<Post>();
    expect(q).toMatchObject({ body: "changed", title: "Hello", createdAt: p.createdAt, publishedAt: p.publishedAt });
    expect(q.editedAt).not.toBeNull();
    expect(q.updatedAt > p.updatedAt).toBe(true);

    expect((await call(`/v1/posts/${p.id}`, { method: "DELETE", ...as(slug, author) })).status).toBe(204);
    await expectProblem(await call(`/v1/posts/${p.id}`, as(slug, author)), 404, "post_not_found");
    await expectProblem(await call(`/v1/posts/${p.id}`, as(slug, other)), 404, "post_not_found");
    expect(await ids(await call(`/v1/users/${author.userId}/posts`, as(slug, other)))).not.toContain(p.id);
    await expectProblem(
      await call(`/v1/posts/${p.id}`, { method: "DELETE", ...as(slug, author) }),
      404,
      "post_not_found",
    );
  });

  it("drafts are the author's alone until published, and publishing sets publishedAt once", async () => {
    const d = await create(slug, author, { body: "draft", status: "draft" });
    expect(d.publishedAt).toBeNull();
    await expectProblem(await call(`/v1/posts/${d.id}`, as(slug, other)), 404, "post_not_found");
    expect((await call(`/v1/posts/${d.id}`, as(slug, author))).status).toBe(200);
    expect(await ids(await call(`/v1/users/${author.userId}/posts`, as(slug, other)))).not.toContain(d.id);
    expect(await ids(await call(`/v1/users/${author.userId}/posts`, as(slug, author)))).not.toContain(d.id);
    expect(await ids(await call("/v1/me/posts?status=draft", as(slug, author)))).toContain(d.id);
    expect(await ids(await call("/v1/me/posts?status=published", as(slug, author)))).not.toContain(d.id);
    expect(await ids(await call("/v1/me/posts", as(slug, other)))).not.toContain(d.id);

    const res = await call(`/v1/posts/${d.id}`, {
      method: "PATCH",
      ...as(slug, author),
      json: { status: "published" },
    });
    const pub = await res.json<Post>();
    expect(pub.status).toBe("published");
    expect(pub.publishedAt).not.toBeNull();
    expect((await call(`/v1/posts/${d.id}`, as(slug, other))).status).toBe(200);
    expect(await ids(await call("/v1/me/posts?status=published", as(slug, author)))).toContain(d.id);
  });

  it("post.published goes through the outbox once: on a published create, or when a draft is first published", async () => {
    const p = await create(slug, author, { body: "now" });
    expect(await publishedEvents(slug, p.id)).toBe(1);
    await call(`/v1/posts/${p.id}`, { method: "PATCH", ...as(slug, author), json: { title: "edited" } });
    expect(await publishedEvents(slug, p.id)).toBe(1);
    const d = await create(slug, author, { body: "later", status: "draft" });
    expect(await publishedEvents(slug, d.id)).toBe(0);
    const edit = (json: unknown) => call(`/v1/posts/${d.id}`, { method: "PATCH", ...as(slug, author), json });
    expect((await edit({ status: "published" })).status).toBe(200);
    expect((await edit({ status: "draft" })).status).toBe(200);
    expect((await edit({ status: "published" })).status).toBe(200);
    expect(await publishedEvents(slug, d.id)).toBe(1);
  });

  it("lists page with a signed cursor, newest first, without duplicates", async () => {
    const u = await registerUser(slug);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await create(slug, u, { body: `post ${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await call(
        `/v1/users/${u.userId}/posts?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        as(slug, other),
      );
      const page = await res.json<{ items: Post[]; nextCursor: string | null }>();
      seen.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse());
    // A cursor of this list is refused by another list.
    const first = await (await call(`/v1/users/${u.userId}/posts?limit=2`, as(slug, other))).json<{
      nextCursor: string;
    }>();
    await expectProblem(
      await call(`/v1/me/posts?cursor=${encodeURIComponent(first.nextCursor)}`, as(slug, u)),
      400,
      "invalid_cursor",
    );
  });

  it("media must be the author's own finished uploads", async () => {
    const [mine, theirs] = await Promise.all([upload(slug, author), upload(slug, other)]);
    const p = await create(slug, author, { body: "with media", mediaFileIds: [mine, mine] });
    expect(p.media.map((m) => m.fileId)).toEqual([mine]);
    const bad = (mediaFileIds: string[]) =>
      call("/v1/posts", { method: "POST", ...as(slug, author), json: { body: "x", mediaFileIds } });
    await expectProblem(await bad([theirs]), 400, "invalid_media");
    await expectProblem(await bad([mine, "nope"]), 400, "invalid_media");
    await expectProblem(
      await call(`/v1/posts/${p.id}`, { method: "PATCH", ...as(slug, author), json: { mediaFileIds: [theirs] } }),
      400,
      "invalid_media",
    );
  });

  it("another tenant's post is unknown here", async () => {
    const p = await create(slug, author, { body: "home" });
    const t2 = await tenantWithOwner();
    const stranger = await registerUser(t2.tenant.slug);
    await expectProblem(await call(`/v1/posts/${p.id}`, as(t2.tenant.slug, stranger)), 404, "post_not_found");
    await expectProblem(
      await call(`/v1/posts/${p.id}`, { method: "DELETE", ...as(t2.tenant.slug, t2.owner) }),
      404,
      "post_not_found",
    );
    // A token of this tenant does not work against the other.
    const res = await call(`/v1/posts/${p.id}`, as(t2.tenant.slug, author));
    expect(res.status).toBe(401);
  });
});
