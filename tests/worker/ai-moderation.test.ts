import { sql } from "drizzle-orm";
import { describe, expect, inject, it, vi } from "vitest";
import { aiRows, quotaOf } from "./ai-helpers";
import { as, registerUser, tenantWithOwner, type Tokens } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { create, moderator } from "./post-helpers";

interface Item {
  id: string;
  targetType: string;
  targetId: string;
  authorId: string;
  status: string;
  provider: string;
  degraded: boolean;
  categories: string[];
  appeal: { status: string } | null;
}

/** A tenant with the classifier on (the local provider, unless a test configures another). */
async function classifierTenant(extra: Record<string, unknown> = {}) {
  const { tenant, owner } = await tenantWithOwner({ ai: { moderation: { classifier: true }, ...extra } });
  return { slug: tenant.slug, owner };
}
const post = (slug: string, u: { tokens: Tokens }, body: string) =>
  call("/v1/posts", { method: "POST", ...as(slug, u), json: { body, visibility: "public", status: "published" } });
const queue = async (slug: string, who: { tokens: Tokens }, q = "") => {
  const res = await call(`/v1/admin/moderation/queue${q}`, as(slug, who));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json<{ items: Item[] }>()).items;
};
const decide = (slug: string, who: { tokens: Tokens }, id: string, decision: "allow" | "block", note?: string) =>
  call(`/v1/admin/moderation/${id}/decision`, {
    method: "POST",
    ...as(slug, who),
    json: { decision, ...(note ? { note } : {}) },
  });

/**
 * The moderation pipeline in posts and comments (word list, then the classifier when enabled),
 * the review queue, decisions applied where the item lives, and appeals.
 */
describe("AI moderation: hook, queue, decisions, appeals", () => {
  it("the classifier blocks, holds with an item, or lets through; it charges the pool, not the author", async () => {
    const { slug, owner } = await classifierTenant({ lease: { enabled: false } });
    const u = await registerUser(slug);
    await expectProblem(await post(slug, u, "shut up, you idiot"), 422, "content_blocked");
    const held = await post(slug, u, "you are such a loser");
    expect(held.status).toBe(201);
    const p = await held.json<{ id: string; status: string }>();
    expect(p.status).toBe("under_review");
    const fine = await create(slug, u, { body: "a lovely day", visibility: "public", status: "published" });
    expect(fine.status).toBe("published");
    const items = await queue(slug, owner);
    expect(items.map((i) => [i.targetType, i.targetId, i.status, i.provider, i.categories])).toEqual([
      ["post", p.id, "open", "local", ["harassment"]],
    ]);
    // Comments pass the same pipeline.
    const c = await call(`/v1/posts/${fine.id}/comments`, {
      method: "POST",
      ...as(slug, u),
      json: { body: "nobody likes you" },
    });
    expect(c.status).toBe(201);
    expect((await c.json<{ status: string }>()).status).toBe("under_review");
    await expectProblem(
      await call(`/v1/posts/${fine.id}/comments`, {
        method: "POST",
        ...as(slug, u),
        json: { body: "I will kill you, kill you" },
      }),
      422,
      "content_blocked",
    );
    expect((await queue(slug, owner, "?type=comment")).length).toBe(1);
    // Automatic moderation is the tenant's work: the author's quota is untouched.
    expect(await quotaOf(slug, u)).toMatchObject({ used: 0 });
    const auto = await aiRows<{ n: number }>(
      slug,
      sql`SELECT count(*) AS n FROM ai_calls WHERE user_id IS NULL AND feature = 'moderation.auto'`,
    );
    expect(auto[0]!.n).toBe(5);
  });

  it("a provider that is down holds clean text for review (degraded) instead of publishing it unchecked", async () => {
    const { slug, owner } = await classifierTenant();
    const res = await call("/v1/admin/ai/providers/openai-compatible", {
      method: "PUT",
      ...as(slug, owner),
      json: {
        baseUrl: `${inject("openai").url}/v1`,
        apiKey: `${crypto.randomUUID()}.status:503`,
        features: ["moderation"],
      },
    });
    expect(res.status).toBe(200);
    const u = await registerUser(slug);
    const held = await (await post(slug, u, "a perfectly clean text")).json<{ id: string; status: string }>();
    expect(held.status).toBe("under_review");
    expect((await queue(slug, owner))[0]).toMatchObject({ targetId: held.id, degraded: true, provider: "wordlist" });
  });

  it("allow publishes the held post; ten parallel decisions make one; the old approve route closes the item too", async () => {
    const { slug, owner } = await classifierTenant();
    const [u, other] = [await registerUser(slug), await registerUser(slug)];
    const p = await (await post(slug, u, "you are such a loser")).json<{ id: string }>();
    expect((await call(`/v1/posts/${p.id}`, as(slug, other))).status).toBe(404);
    const [item] = await queue(slug, owner);
    const rs = await Promise.all(Array.from({ length: 10 }, () => decide(slug, owner, item!.id, "allow")));
    expect(rs.filter((r) => r.status === 200).length).toBe(1);
    expect(rs.filter((r) => r.status === 409).length).toBe(9);
    expect((await call(`/v1/posts/${p.id}`, as(slug, other))).status).toBe(200);
    expect(await queue(slug, owner)).toEqual([]);
    const decided = await queue(slug, owner, "?status=decided");
    expect(decided[0]).toMatchObject({ id: item!.id, status: "allowed" });

    const q = await (await post(slug, u, "what a loser move")).json<{ id: string }>();
    const [second] = await queue(slug, owner);
    expect((await call(`/v1/admin/posts/${q.id}/approve`, { method: "POST", ...as(slug, owner) })).status).toBe(200);
    expect(await queue(slug, owner)).toEqual([]);
    await expectProblem(await decide(slug, owner, second!.id, "block"), 409, "moderation_item_decided");
  });

  it("block removes; the author appeals once (others: 404); overturning restores the post", async () => {
    const { slug, owner } = await classifierTenant();
    const [u, other] = [await registerUser(slug), await registerUser(slug)];
    const p = await (await post(slug, u, "you are such a loser")).json<{ id: string }>();
    const [item] = await queue(slug, owner);
    const blocked = await decide(slug, owner, item!.id, "block", "rude");
    expect(blocked.status).toBe(200);
    expect(await blocked.json()).toMatchObject({ status: "blocked", note: "rude" });
    const appeal = (who: { tokens: Tokens }, text = "I meant it kindly") =>
      call(`/v1/moderation/${item!.id}/appeal`, { method: "POST", ...as(slug, who), json: { text } });
    await expectProblem(await appeal(other), 404, "moderation_item_not_found");
    await expectProblem(await appeal(u, ""), 400, "validation_failed");
    const first = await appeal(u);
    expect(first.status, await first.clone().text()).toBe(200);
    expect((await first.json<Item>()).appeal).toMatchObject({ status: "open" });
    await expectProblem(await appeal(u), 409, "appeal_not_allowed");
    expect((await queue(slug, owner)).map((i) => i.id)).toEqual([item!.id]);
    const overturned = await decide(slug, owner, item!.id, "allow");
    expect(await overturned.json()).toMatchObject({ status: "allowed", appeal: { status: "overturned" } });
    expect((await call(`/v1/posts/${p.id}`, as(slug, other))).status).toBe(200);
    await expectProblem(await appeal(u), 409, "appeal_not_allowed");
  });

  it("members cannot see or decide; moderators below the author's rank cannot block; the classifier is off by default", async () => {
    const { slug, owner } = await classifierTenant();
    const u = await registerUser(slug);
    const mod = await moderator(slug, owner);
    const ownersPost = await (await post(slug, owner, "you are such a loser")).json<{ id: string; status: string }>();
    expect(ownersPost.status).toBe("under_review");
    const [item] = await queue(slug, mod);
    await expectProblem(await call("/v1/admin/moderation/queue", as(slug, u)), 403, "forbidden");
    await expectProblem(await decide(slug, u, item!.id, "allow"), 403, "forbidden");
    await expectProblem(await decide(slug, mod, item!.id, "block"), 403, "rank_too_low");
    await expectProblem(await decide(slug, owner, "mi_nope", "allow"), 404, "moderation_item_not_found");
    await expectProblem(
      await call(`/v1/admin/moderation/${item!.id}/decision`, {
        method: "POST",
        ...as(slug, owner),
        json: { decision: "maybe" },
      }),
      400,
      "validation_failed",
    );
    // Another tenant's moderator does not know the item.
    const other = await classifierTenant();
    await expectProblem(await decide(other.slug, other.owner, item!.id, "allow"), 404, "moderation_item_not_found");

    const plain = await tenantWithOwner();
    const v = await registerUser(plain.tenant.slug);
    expect(
      await create(plain.tenant.slug, v, { body: "you are such a loser", visibility: "public", status: "published" }),
    ).toMatchObject({
      status: "published",
    });
  });
});

describe("AI moderation of profiles", () => {
  it("a nickname or bio the classifier blocks is refused; one it holds is stored with an item; block resets it", async () => {
    const { slug, owner } = await classifierTenant();
    const u = await registerUser(slug);
    const patch = (json: unknown) => call("/v1/me", { method: "PATCH", ...as(slug, u), json });
    await expectProblem(await patch({ bio: "shut up, you idiot" }), 422, "content_blocked");
    const res = await patch({ nickname: "total loser", bio: "hello there" });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ nickname: "total loser", bio: "hello there" });
    const [item] = await queue(slug, owner, "?type=nickname");
    expect(item).toMatchObject({
      targetType: "nickname",
      targetId: u.userId,
      authorId: u.userId,
      categories: ["harassment"],
    });
    expect((await decide(slug, owner, item!.id, "block")).status).toBe(200);
    const me = await (await call("/v1/me", as(slug, u))).json<{ nickname: string; bio: string }>();
    expect(me).toMatchObject({ nickname: u.username, bio: "hello there" });
  });
});

describe("AI moderation of messages", () => {
  it("the classifier runs after delivery: block recalls the message for everyone, review files an item", async () => {
    const { slug, owner } = await classifierTenant();
    const [a, b] = [await registerUser(slug), await registerUser(slug)];
    const res = await call("/v1/conversations", {
      method: "POST",
      ...as(slug, a),
      json: { type: "group", name: "crew", memberIds: [b.userId] },
    });
    const { id } = await res.json<{ id: string }>();
    const send = async (text: string) => {
      const r = await call(`/v1/conversations/${id}/messages`, {
        method: "POST",
        ...as(slug, a),
        json: { clientId: crypto.randomUUID(), body: { text } },
      });
      expect(r.status, await r.clone().text()).toBe(201);
      return (await r.json<{ messageId: string }>()).messageId;
    };
    const rude = await send("shut up, you idiot");
    const meh = await send("you are such a loser");
    const fine = await send("see you at noon");
    const history = async () =>
      (
        await (
          await call(`/v1/conversations/${id}/messages?limit=100`, as(slug, b))
        ).json<{
          items: { messageId: string; recalled?: true }[];
        }>()
      ).items;
    await vi.waitFor(async () => expect((await history()).find((m) => m.messageId === rude)?.recalled).toBe(true), {
      timeout: 15_000,
      interval: 250,
    });
    const all = await history();
    expect(all.find((m) => m.messageId === meh)?.recalled).toBeUndefined();
    expect(all.find((m) => m.messageId === fine)?.recalled).toBeUndefined();
    await vi.waitFor(
      async () => expect((await queue(slug, owner, "?type=message")).map((i) => i.targetId)).toEqual([meh]),
      {
        timeout: 15_000,
        interval: 250,
      },
    );
    const decided = await queue(slug, owner, "?status=decided&type=message");
    expect(decided.map((i) => [i.targetId, i.status])).toEqual([[rude, "blocked"]]);
    // The sender may appeal the block; the moderator's block of the held one recalls it too.
    const [held] = await queue(slug, owner, "?type=message");
    expect((await decide(slug, owner, held!.id, "block")).status).toBe(200);
    expect((await history()).find((m) => m.messageId === meh)?.recalled).toBe(true);
  });
});
