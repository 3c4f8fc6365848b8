import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { storeEmbeddings } from "../../src/db/tenant/embeddings";
import { retrieve } from "../../src/db/tenant/knowledge";
import { localEmbedding } from "../../src/lib/ai/local";
import { sweepVectors } from "../../src/workers/ai/vectors";
import { aiRows, aiTenant, registerUser } from "./ai-helpers";
import { addArticle, ask, chatThroughFake, fakeCalls } from "./ai-chat-helpers";
import { allPosts, deliverAi, liked, recEvent } from "./ai-recommend-helpers";
import { as, type Tokens } from "./auth-helpers";
import { call, tenantDbOf, tenantScopeOf } from "./helpers";
import { create, type Post } from "./post-helpers";

const LOCAL = "local:canopy-hash-384";

async function like(slug: string, u: { tokens: Tokens }, p: Post) {
  const res = await call(`/v1/posts/${p.id}/like`, { method: "PUT", ...as(slug, u) });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

/** `post.published` of posts, as content emits it, handed to the `ai` queue's consumers. */
const publish = (tenantId: string, posts: Post[]) =>
  deliverAi(
    posts.map((p) =>
      recEvent(tenantId, "post.published", {
        postId: p.id,
        authorId: p.authorId,
        visibility: p.visibility,
        mentioned: [],
      }),
    ),
  );

const vectorRows = (slug: string) =>
  aiRows<{ id: string; model: string; sourceAt: number }>(
    slug,
    sql`SELECT post_id AS id, model, source_at AS sourceAt FROM post_embeddings ORDER BY post_id`,
  );

const autoCalls = (slug: string) =>
  aiRows<{ status: string; units: number; provider: string }>(
    slug,
    sql`SELECT status, units, provider FROM ai_calls WHERE user_id IS NULL AND feature = 'embeddings.auto' ORDER BY started_at`,
  );

/** A tenant, an author and a reader, and posts about three subjects. */
async function world(ai: Record<string, unknown>) {
  const t = await aiTenant(ai);
  const [author, reader] = await Promise.all([registerUser(t.slug), registerUser(t.slug)]);
  const posts = {
    rust: await create(t.slug, author!, { body: "rust borrow checker lifetimes ownership traits" }),
    rust2: await create(t.slug, author!, { body: "rust ownership borrow checker lifetimes generics" }),
    rustPrivate: await create(t.slug, author!, {
      body: "rust borrow checker lifetimes ownership traits",
      visibility: "private",
    }),
    garden: await create(t.slug, author!, { body: "tomato seedlings compost watering greenhouse" }),
    bread: await create(t.slug, author!, { body: "sourdough starter flour hydration oven" }),
  };
  return { ...t, author: author!, reader: reader!, posts };
}

describe("vectors of posts", () => {
  it("are off by default: a published post gets no vector and no provider call", async () => {
    const w = await world({});
    await publish(w.tenantId, Object.values(w.posts));
    expect(await vectorRows(w.slug)).toEqual([]);
    expect(await autoCalls(w.slug)).toEqual([]);
  });

  it("are made once per post when on, charged to the pool only, and a redelivery changes nothing", async () => {
    const w = await world({ embeddings: { enabled: true } });
    const all = Object.values(w.posts);
    await publish(w.tenantId, all);
    const rows = await vectorRows(w.slug);
    expect(rows.map((r) => r.id)).toEqual(all.map((p) => p.id).sort());
    expect(new Set(rows.map((r) => r.model))).toEqual(new Set([LOCAL]));
    // The queue delivers the same events on its own: once both deliveries are done, the count stands.
    let settled = -1;
    await expect
      .poll(async () => {
        const n = (await autoCalls(w.slug)).length;
        const same = n === settled;
        settled = n;
        return same;
      })
      .toBe(true);
    const calls = await autoCalls(w.slug);
    expect(calls.length).toBeGreaterThanOrEqual(all.length);
    expect(calls.length).toBeLessThanOrEqual(2 * all.length);
    expect(calls.every((c) => c.status === "ok" && c.units >= 5 && c.provider === "local")).toBe(true);
    // The same events again: each post's vector is current, so no call.
    await publish(w.tenantId, all);
    expect(await autoCalls(w.slug)).toHaveLength(calls.length);
    // The reader's own quota paid nothing.
    expect(await aiRows(w.slug, sql`SELECT 1 FROM ai_calls WHERE user_id IS NOT NULL`)).toEqual([]);
  });

  it("the stored vector is the provider's: the nearest post to a post's own text is itself", async () => {
    const w = await world({ embeddings: { enabled: true } });
    await publish(w.tenantId, Object.values(w.posts));
    const { db } = await tenantDbOf(w.slug);
    const [row] = await db.all<{ v: string }>(
      sql`SELECT vector_extract(embedding) AS v FROM post_embeddings WHERE post_id = ${w.posts.garden.id}`,
    );
    const expected = localEmbedding(w.posts.garden.body);
    const stored = JSON.parse(row!.v) as number[];
    expect(stored).toHaveLength(384);
    stored.forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 5));
  });

  it("blend into the feed: a reader with one like gets the nearest visible posts first", async () => {
    const w = await world({ embeddings: { enabled: true } });
    await publish(w.tenantId, Object.values(w.posts));
    await like(w.slug, w.reader, w.posts.rust);
    await deliverAi([liked(w.tenantId, w.reader.userId, w.posts.rust.id, w.author.userId)]);
    const items = await allPosts(w.slug, w.reader, "/v1/feeds/recommended");
    const ids = items.map((p) => p.id);
    expect(ids[0]).toBe(w.posts.rust2.id);
    // Never the private twin (the nearest of all), never the post interacted with.
    expect(ids).not.toContain(w.posts.rustPrivate.id);
    expect(ids).not.toContain(w.posts.rust.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("with vectors off, the same reader gets the hot order (one like is too little to go on)", async () => {
    const w = await world({ embeddings: { enabled: false } });
    await publish(w.tenantId, Object.values(w.posts));
    await like(w.slug, w.reader, w.posts.rust);
    await deliverAi([liked(w.tenantId, w.reader.userId, w.posts.rust.id, w.author.userId)]);
    const hot = (await allPosts(w.slug, w.reader, "/v1/feeds/hot")).map((p) => p.id);
    const items = await allPosts(w.slug, w.reader, "/v1/feeds/recommended");
    expect(items.map((p) => p.id)).toEqual(hot.filter((id) => id !== w.posts.rust.id));
  });

  it("blend into similar posts: the nearest by vector first when nobody co-engaged yet", async () => {
    const w = await world({ embeddings: { enabled: true } });
    await publish(w.tenantId, Object.values(w.posts));
    const items = await allPosts(w.slug, w.reader, `/v1/posts/${w.posts.rust.id}/similar`);
    expect(items[0]?.id).toBe(w.posts.rust2.id);
    expect(items.map((p) => p.id)).not.toContain(w.posts.rust.id);
    expect(items.map((p) => p.id)).not.toContain(w.posts.rustPrivate.id);
  });

  it("co-engagement still weighs more than words: 0.7 cf + 0.3 cosine", async () => {
    const w = await world({ embeddings: { enabled: true } });
    await publish(w.tenantId, Object.values(w.posts));
    const raters = await Promise.all(Array.from({ length: 3 }, () => registerUser(w.slug)));
    // Every rater liked rust and bread: bread co-occurs with rust, rust2 only resembles it.
    await deliverAi(
      raters.flatMap((r) =>
        [w.posts.rust, w.posts.bread].map((p) => liked(w.tenantId, r!.userId, p.id, w.author.userId)),
      ),
    );
    const items = await allPosts(w.slug, w.reader, `/v1/posts/${w.posts.rust.id}/similar`);
    expect(items.slice(0, 2).map((p) => p.id)).toEqual([w.posts.bread.id, w.posts.rust2.id]);
  });

  it("the sweep embeds what the consumer missed and re-embeds an edited post; another model's vectors are ignored", async () => {
    const w = await world({ embeddings: { enabled: true } });
    const s = await tenantScopeOf(w.slug);
    // The queue's own delivery embeds the posts; then they lose their vectors (as if it had failed).
    await expect.poll(async () => (await vectorRows(w.slug)).length, { timeout: 10_000 }).toBe(5);
    const { db } = await tenantDbOf(w.slug);
    // With a WHERE: a bare DELETE truncates and leaves the vector index stale (see db/tenant/embeddings.ts).
    await db.run(sql`DELETE FROM post_embeddings WHERE id > 0`);
    // The sweep finds every post of the day without a vector.
    expect(await sweepVectors(s, Date.now())).toEqual({ aiPostVectors: 5 });
    expect(await sweepVectors(s, Date.now())).toEqual({});
    const before = (await vectorRows(w.slug)).find((r) => r.id === w.posts.garden.id)!;
    const res = await call(`/v1/posts/${w.posts.garden.id}`, {
      method: "PATCH",
      ...as(w.slug, w.author),
      json: { body: "rust borrow checker lifetimes" },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await sweepVectors(s, Date.now())).toEqual({ aiPostVectors: 1 });
    const after = (await vectorRows(w.slug)).find((r) => r.id === w.posts.garden.id)!;
    expect(after.sourceAt).toBeGreaterThan(before.sourceAt);
    // A vector of another model is not compared: the post counts as having none.
    await db.run(sql`UPDATE post_embeddings SET model = 'other:model' WHERE post_id = ${w.posts.rust2.id}`);
    const similar = await allPosts(w.slug, w.reader, `/v1/posts/${w.posts.rust.id}/similar`);
    expect(similar.map((p) => p.id)).not.toContain(w.posts.rust2.id);
    expect(await sweepVectors(s, Date.now())).toEqual({ aiPostVectors: 1 });
  });

  it("a provider that fails or an exhausted pool leaves posts without vectors, never failing the event", async () => {
    const w = await world({});
    const key = await chatThroughFake(w.slug, w.owner, "status:503", ["embeddings"]);
    await publish(w.tenantId, [w.posts.rust]);
    expect(await vectorRows(w.slug)).toEqual([]);
    // (The queue may deliver the event too: every attempt degrades.)
    const statuses = (await autoCalls(w.slug)).map((c) => c.status);
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(["degraded"]));
    expect((await fakeCalls(key)).count).toBeGreaterThan(0);
    // The feed still answers, from collaborative filtering and hot posts.
    expect((await call("/v1/feeds/recommended", as(w.slug, w.reader))).status).toBe(200);

    const poor = await world({ embeddings: { enabled: true }, pool: { units: 0 } });
    await publish(poor.tenantId, [poor.posts.rust]);
    expect(await vectorRows(poor.slug)).toEqual([]);
  });

  it("a configured provider's vectors carry its model, and turn vectors on by themselves", async () => {
    const w = await world({});
    const key = await chatThroughFake(w.slug, w.owner, "ok", ["embeddings"]);
    await publish(w.tenantId, [w.posts.rust, w.posts.garden]);
    const rows = await vectorRows(w.slug);
    expect(rows.map((r) => r.model)).toEqual([
      "openai-compatible:text-embedding-3-small",
      "openai-compatible:text-embedding-3-small",
    ]);
    expect((await fakeCalls(key)).count).toBeGreaterThanOrEqual(2);
  });
});

describe("vectors of articles", () => {
  it("fuse with full-text retrieval by reciprocal rank, above the similarity floor only", async () => {
    const t = await aiTenant();
    const owner = t.owner;
    const both = await addArticle(t.slug, owner, { title: "Refunds", body: "How refunds of orders work." });
    const wordsOnly = await addArticle(t.slug, owner, { title: "Refund windows", body: "Refund windows are 14 days." });
    const vectorOnly = await addArticle(t.slug, owner, { title: "Money back", body: "Getting money back." });
    const far = await addArticle(t.slug, owner, { title: "Shipping", body: "Parcels ship daily." });
    const { db } = await tenantDbOf(t.slug);
    const q = localEmbedding("refund");
    const away = new Float32Array(384);
    away[7] = 1;
    await storeEmbeddings(db, "article", "test:model", [
      { id: both.id, sourceAt: Date.now(), v: q },
      { id: vectorOnly.id, sourceAt: Date.now(), v: q },
      { id: far.id, sourceAt: Date.now(), v: away },
    ]);
    const near = { v: q, model: "test:model", minSimilarity: 0.3 };
    const got = await retrieve(db, "refund", 4, near);
    const ids = got.map((r) => r.id);
    expect(ids[0]).toBe(both.id);
    expect(new Set(ids)).toEqual(new Set([both.id, wordsOnly.id, vectorOnly.id]));
    // In both lists, at rank 1 or 2 of each: above any article in one list only.
    expect(got[0]!.score).toBeGreaterThanOrEqual(1 / 62 + 1 / 62);
    expect(got.slice(1).every((r) => r.score <= 1 / 61)).toBe(true);
    // Full-text only without the vector; another model's vectors count for nothing.
    expect((await retrieve(db, "refund", 4)).map((r) => r.id).sort()).toEqual([both.id, wordsOnly.id].sort());
    expect((await retrieve(db, "refund", 4, { ...near, model: "else" })).map((r) => r.id)).not.toContain(vectorOnly.id);
    // A deleted article leaves the vector index with its row.
    expect(
      (await call(`/v1/admin/ai/knowledge/${vectorOnly.id}`, { method: "DELETE", ...as(t.slug, owner) })).status,
    ).toBe(204);
    expect((await retrieve(db, "refund", 4, near)).map((r) => r.id)).not.toContain(vectorOnly.id);
    expect(await aiRows(t.slug, sql`SELECT 1 FROM kb_embeddings WHERE article_id = ${vectorOnly.id}`)).toEqual([]);
  });

  it("are written after each write when on, and the chat's question is embedded on the asker's quota", async () => {
    const t = await aiTenant({ embeddings: { enabled: true } });
    const a = await addArticle(t.slug, t.owner, {
      title: "Resetting your password",
      body: "Open settings, choose security, then reset password and follow the email link.",
    });
    const stored = async () =>
      aiRows<{ model: string }>(t.slug, sql`SELECT model FROM kb_embeddings WHERE article_id = ${a.id}`);
    await expect.poll(stored, { timeout: 5000 }).toEqual([{ model: LOCAL }]);
    const user = await registerUser(t.slug);
    const turn = await ask(t.slug, user!, "How do I reset my password?");
    expect(turn.done?.sources.map((x) => x.id)).toEqual([a.id]);
    const features = await aiRows<{ feature: string }>(
      t.slug,
      sql`SELECT feature FROM ai_calls WHERE user_id = ${user!.userId} ORDER BY feature`,
    );
    expect(features.map((f) => f.feature)).toEqual(["chat", "embeddings"]);
    // Another tenant's vectors are another database: its retrieval never sees this article.
    const other = await aiTenant({ embeddings: { enabled: true } });
    const stranger = await registerUser(other.slug);
    const elsewhere = await ask(other.slug, stranger!, "How do I reset my password?");
    expect(elsewhere.done?.sources).toEqual([]);
  });
});
