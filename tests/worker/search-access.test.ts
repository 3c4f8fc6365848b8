import { beforeAll, describe, expect, it } from "vitest";
import { as, befriend, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { create, postTenant, type User, VISIBILITIES } from "./post-helpers";
import { allPages, found, search, searchRaw } from "./search-helpers";

describe("search: who finds what", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let author: User;
  let other: User;

  beforeAll(async () => {
    ({ slug, owner, author, other } = await postTenant());
  });

  it("a post of one tenant is never found from another", async () => {
    const p = await create(slug, author, { body: "tenantsecretword here" });
    const b = await postTenant();
    expect(await found(b.slug, b.author, "tenantsecretword")).toEqual([]);
    expect(await found(slug, other, "tenantsecretword")).toEqual([p.id]);
  });

  it("the visibility matrix: stranger, follower, friend, blocked (both ways), author", async () => {
    const [writer, stranger, follower, friend, blocked] = await Promise.all([
      registerUser(slug),
      registerUser(slug),
      registerUser(slug),
      registerUser(slug),
      registerUser(slug),
    ]);
    expect((await call(`/v1/users/${writer.userId}/follow`, { method: "PUT", ...as(slug, follower) })).status).toBe(
      200,
    );
    await befriend(slug, writer, friend);
    expect((await call(`/v1/blocks/${blocked.userId}`, { method: "PUT", ...as(slug, writer) })).status).toBe(204);
    const word = `matrixword${Date.now()}`;
    const posts = Object.fromEntries(
      await Promise.all(
        VISIBILITIES.map(async (v) => [v, (await create(slug, writer, { body: `${word} ${v}`, visibility: v })).id]),
      ),
    ) as Record<(typeof VISIBILITIES)[number], string>;
    const draft = await create(slug, writer, { body: `${word} draft`, status: "draft" });
    const sees: Record<string, { who: User; visible: string[] }> = {
      stranger: { who: stranger, visible: ["public"] },
      follower: { who: follower, visible: ["public", "followers"] },
      friend: { who: friend, visible: ["public", "friends"] },
      blocked: { who: blocked, visible: [] },
      author: { who: writer, visible: [...VISIBILITIES] },
    };
    for (const [name, { who, visible }] of Object.entries(sees)) {
      const ids = await found(slug, who, word, { limit: 100 });
      expect(ids.sort(), name).toEqual(visible.map((v) => posts[v as keyof typeof posts]).sort());
      expect(ids, `${name}: drafts are not indexed`).not.toContain(draft.id);
    }
    // Blocks hide both ways: the blocker does not find the blocked user's posts either.
    const theirs = await create(slug, blocked, { body: `${word} from the blocked side` });
    expect(await found(slug, writer, word, { limit: 100 })).not.toContain(theirs.id);
    expect(await found(slug, stranger, word, { limit: 100 })).toContain(theirs.id);
    // A suspended author's posts vanish for others.
    const res = await call(`/v1/admin/users/${blocked.userId}/suspend`, { method: "POST", ...as(slug, owner) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    expect(await found(slug, stranger, word, { limit: 100 })).not.toContain(theirs.id);
  });

  it("deleted posts vanish at once; edits are found by the new text, not the old; back to draft leaves", async () => {
    const p = await create(slug, author, { title: "oldtitleword", body: "oldbodyword", tags: ["oldtag"] });
    expect(await found(slug, other, "oldbodyword")).toEqual([p.id]);
    const patch = (json: unknown) => call(`/v1/posts/${p.id}`, { method: "PATCH", ...as(slug, author), json });
    expect((await patch({ body: "newbodyword", title: "newtitleword" })).status).toBe(200);
    expect(await found(slug, other, "oldbodyword")).toEqual([]);
    expect(await found(slug, other, "oldtitleword")).toEqual([]);
    expect(await found(slug, other, "newbodyword")).toEqual([p.id]);
    expect(await found(slug, other, "newtitleword")).toEqual([p.id]);
    expect(await found(slug, other, "oldtag")).toEqual([p.id]);
    expect((await patch({ tags: ["newtag"] })).status).toBe(200);
    expect(await found(slug, other, "oldtag")).toEqual([]);
    expect(await found(slug, other, "newtag")).toEqual([p.id]);
    expect((await patch({ status: "draft" })).status).toBe(200);
    expect(await found(slug, other, "newbodyword")).toEqual([]);
    expect(await found(slug, author, "newbodyword")).toEqual([]);
    expect((await patch({ status: "published" })).status).toBe(200);
    expect(await found(slug, other, "newbodyword")).toEqual([p.id]);
    const d = await create(slug, author, { body: "draftonlyword", status: "draft" });
    expect(await found(slug, author, "draftonlyword")).toEqual([]);
    expect(
      (await call(`/v1/posts/${d.id}`, { method: "PATCH", ...as(slug, author), json: { status: "published" } })).status,
    ).toBe(200);
    expect(await found(slug, other, "draftonlyword")).toEqual([d.id]);
    expect((await call(`/v1/posts/${p.id}`, { method: "DELETE", ...as(slug, author) })).status).toBe(204);
    expect(await found(slug, other, "newbodyword")).toEqual([]);
    expect(await found(slug, author, "newbodyword")).toEqual([]);
  });

  it("filters: tag, authorId, from/to on publishedAt", async () => {
    const word = `filterword${Date.now()}`;
    const a = await create(slug, author, { body: word, tags: ["Cats"] });
    const b = await create(slug, other, { body: word, tags: ["dogs"] });
    expect(await found(slug, other, word, { tag: "CATS" })).toEqual([a.id]);
    expect(await found(slug, other, word, { tag: "dogs" })).toEqual([b.id]);
    expect(await found(slug, other, word, { tag: "birds" })).toEqual([]);
    expect(await found(slug, other, word, { authorId: other.userId })).toEqual([b.id]);
    expect(await found(slug, other, word, { authorId: "nobody" })).toEqual([]);
    expect((await found(slug, other, word, { from: a.publishedAt! })).sort()).toEqual([a.id, b.id].sort());
    const later = { from: b.publishedAt!, to: new Date(Date.now() + 60_000).toISOString() };
    expect((await found(slug, other, word, later)).sort()).toEqual(
      a.publishedAt === b.publishedAt ? [a.id, b.id].sort() : [b.id],
    );
    expect(await found(slug, other, word, { to: a.publishedAt! })).toEqual([]);
    expect(await found(slug, other, word, { from: "2000-01-01T00:00:00Z", to: "2001-01-01T00:00:00Z" })).toEqual([]);
  });

  it("limit and cursor page without duplicates, by relevance and by recent; a cursor is bound to its search", async () => {
    const word = `pageword${Date.now()}`;
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await create(slug, author, { body: `${word} ${"x ".repeat(i)}` })).id);
    for (const sort of ["relevance", "recent"]) {
      const ids = await allPages(slug, other, { q: word, limit: 3, sort });
      expect(ids.length, sort).toBe(7);
      expect(new Set(ids).size, sort).toBe(7);
      expect([...ids].sort()).toEqual([...made].sort());
    }
    expect(await allPages(slug, other, { q: word, limit: 3, sort: "recent" })).toEqual([...made].reverse());
    const first = await search(slug, other, { q: word, limit: 3 });
    expect(first.nextCursor).not.toBeNull();
    await expectProblem(
      await searchRaw(slug, other, { q: `${word} x`, limit: 3, cursor: first.nextCursor! }),
      400,
      "invalid_cursor",
    );
    // Hidden posts are skipped: the pages still end, and only visible ones come back.
    const hidden = await create(slug, author, { body: word, visibility: "friends" });
    expect(await allPages(slug, other, { q: word, limit: 2 })).not.toContain(hidden.id);
  });

  it("a query matching more than the tenant's search.maxHits is 400 query_too_broad", async () => {
    const t = await tenantWithOwner({ search: { maxHits: 5 } });
    const s = t.tenant.slug;
    const u = await registerUser(s);
    for (let i = 0; i < 5; i++) await create(s, u, { body: `broadword number${i}` });
    expect((await search(s, u, { q: "broadword" })).items).toHaveLength(5);
    await create(s, u, { body: "broadword number5" });
    await expectProblem(await searchRaw(s, u, { q: "broadword" }), 400, "query_too_broad");
    expect(await found(s, u, "broadword number5")).toHaveLength(1);
    await expectProblem(await searchRaw(s, u, { q: "br" }), 400, "query_too_broad");
    // A one-letter word matches the word exactly, not as a prefix of everything.
    expect(await found(s, u, "b")).toEqual([]);
  });

  it("type=users reuses the user search with a score and a marked snippet", async () => {
    const res = await call("/v1/me", { method: "PATCH", ...as(slug, author), json: { nickname: "Zanzibar <b>" } });
    expect(res.status, await res.clone().text()).toBe(200);
    const page = await search(slug, other, { q: "zanzi", type: "users" });
    expect(page.items.map((h) => h.id)).toEqual([author.userId]);
    expect(page.items[0]).toMatchObject({ type: "user", score: 2, snippet: "<mark>Zanzi</mark>bar &lt;b&gt;" });
    expect(page.items[0]!.user).toMatchObject({ id: author.userId, nickname: "Zanzibar <b>" });
    expect((await search(slug, other, { q: "zibar", type: "users" })).items[0]).toMatchObject({ score: 1 });
  });
});
