import { describe, expect, it } from "vitest";
import { aiTenant, registerUser } from "./ai-helpers";
import { addArticle, ask } from "./ai-chat-helpers";
import { as } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

const PASSWORD_ARTICLE = {
  title: "Resetting your password",
  body: "Open Settings and choose Security.\n\nPress Reset password and follow the link we email you. The link works for one hour.",
  tags: ["Account", "account", "security"],
};

/**
 * The knowledge base: admins write articles, the chat retrieves them at once; nothing of one
 * tenant's knowledge base reaches another tenant, and a deleted article is never retrieved again.
 */
describe("AI knowledge base", () => {
  it("creates, lists, changes and deletes articles; tags are folded and deduplicated", async () => {
    const { slug, owner } = await aiTenant();
    const created = await addArticle(slug, owner, PASSWORD_ARTICLE);
    expect(created).toMatchObject({ title: PASSWORD_ARTICLE.title, tags: ["account", "security"] });
    expect(created.id).toMatch(/^kb_/);
    const second = await addArticle(slug, owner, { title: "Shipping", body: "We ship worldwide." });
    expect(second.tags).toEqual([]);

    const page1 = await (await call("/v1/admin/ai/knowledge?limit=1", as(slug, owner))).json<{
      items: { id: string }[];
      nextCursor: string | null;
    }>();
    expect(page1.items.map((a) => a.id)).toEqual([second.id]);
    const page2 = await (
      await call(`/v1/admin/ai/knowledge?limit=1&cursor=${encodeURIComponent(page1.nextCursor!)}`, as(slug, owner))
    ).json<{ items: { id: string }[]; nextCursor: string | null }>();
    expect(page2.items.map((a) => a.id)).toEqual([created.id]);

    const patched = await call(`/v1/admin/ai/knowledge/${created.id}`, {
      method: "PATCH",
      ...as(slug, owner),
      json: { title: "Password reset" },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    expect(await patched.json()).toMatchObject({
      id: created.id,
      title: "Password reset",
      body: PASSWORD_ARTICLE.body,
    });

    expect((await call(`/v1/admin/ai/knowledge/${created.id}`, { method: "DELETE", ...as(slug, owner) })).status).toBe(
      204,
    );
    await expectProblem(
      await call(`/v1/admin/ai/knowledge/${created.id}`, { method: "DELETE", ...as(slug, owner) }),
      404,
      "knowledge_not_found",
    );
    await expectProblem(
      await call(`/v1/admin/ai/knowledge/${created.id}`, { method: "PATCH", ...as(slug, owner), json: { title: "x" } }),
      404,
      "knowledge_not_found",
    );
    const left = await (await call("/v1/admin/ai/knowledge", as(slug, owner))).json<{ items: { id: string }[] }>();
    expect(left.items.map((a) => a.id)).toEqual([second.id]);
  });

  it("refuses control characters, oversized bodies, too many tags, empty patches; members get 403", async () => {
    const { slug, owner } = await aiTenant();
    const post = (json: unknown) => call("/v1/admin/ai/knowledge", { method: "POST", ...as(slug, owner), json });
    await expectProblem(await post({ title: "Bell\u0007", body: "x" }), 400, "validation_failed");
    await expectProblem(await post({ title: "Trojan \u202e", body: "x" }), 400, "validation_failed");
    await expectProblem(await post({ title: "Fine", body: "bell \u0007 inside" }), 400, "validation_failed");
    await expectProblem(await post({ title: "Big", body: "a".repeat(50_001) }), 400, "validation_failed");
    await expectProblem(await post({ title: "t".repeat(201), body: "x" }), 400, "validation_failed");
    await expectProblem(
      await post({ title: "Tags", body: "x", tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }),
      400,
      "validation_failed",
    );
    await expectProblem(await post({ title: "Blank", body: "   " }), 400, "validation_failed");
    // Line breaks and tabs are fine in a body, and 50,000 characters are allowed.
    await addArticle(slug, owner, { title: "Long", body: `line one\n\tline two ${"b".repeat(49_980)}` });
    const a = await addArticle(slug, owner, { title: "Ok", body: "fine" });
    await expectProblem(
      await call(`/v1/admin/ai/knowledge/${a.id}`, { method: "PATCH", ...as(slug, owner), json: {} }),
      400,
      "validation_failed",
    );

    const member = await registerUser(slug);
    await expectProblem(
      await call("/v1/admin/ai/knowledge", { method: "POST", ...as(slug, member), json: { title: "t", body: "b" } }),
      403,
      "forbidden",
    );
    await expectProblem(await call("/v1/admin/ai/knowledge", as(slug, member)), 403, "forbidden");
    await expectProblem(
      await call(`/v1/admin/ai/knowledge/${a.id}`, { method: "DELETE", ...as(slug, member) }),
      403,
      "forbidden",
    );
  });

  it("tenant B's chat never cites tenant A's article with the same words; B's admin cannot touch A's id", async () => {
    const a = await aiTenant();
    const b = await aiTenant();
    const aArticle = await addArticle(a.slug, a.owner, PASSWORD_ARTICLE);
    const bUser = await registerUser(b.slug);

    const before = await ask(b.slug, bUser, "How do I reset my password?");
    expect(before.done).toMatchObject({ answered: false, sources: [] });

    const bArticle = await addArticle(b.slug, b.owner, PASSWORD_ARTICLE);
    const after = await ask(b.slug, bUser, "How do I reset my password?");
    expect(after.done?.answered).toBe(true);
    expect(after.done?.sources.map((s) => s.id)).toEqual([bArticle.id]);

    await expectProblem(
      await call(`/v1/admin/ai/knowledge/${aArticle.id}`, {
        method: "PATCH",
        ...as(b.slug, b.owner),
        json: { title: "Mine now" },
      }),
      404,
      "knowledge_not_found",
    );
    await expectProblem(
      await call(`/v1/admin/ai/knowledge/${aArticle.id}`, { method: "DELETE", ...as(b.slug, b.owner) }),
      404,
      "knowledge_not_found",
    );
    // A's article is untouched and still answers A's users.
    const aUser = await registerUser(a.slug);
    expect((await ask(a.slug, aUser, "reset password")).done?.sources).toEqual([
      { id: aArticle.id, title: PASSWORD_ARTICLE.title },
    ]);
  });

  it("a deleted article leaves retrieval at once; an edited one is retrieved by its new words", async () => {
    const { slug, owner } = await aiTenant();
    const u = await registerUser(slug);
    const article = await addArticle(slug, owner, PASSWORD_ARTICLE);
    expect((await ask(slug, u, "reset my password")).done?.sources.map((s) => s.id)).toEqual([article.id]);

    await call(`/v1/admin/ai/knowledge/${article.id}`, {
      method: "PATCH",
      ...as(slug, owner),
      json: { title: "Passkeys", body: "Passkeys replace passwords on every device.", tags: [] },
    });
    expect((await ask(slug, u, "reset")).done?.answered).toBe(false);
    expect((await ask(slug, u, "Do you support passkeys?")).done?.sources.map((s) => s.id)).toEqual([article.id]);

    await call(`/v1/admin/ai/knowledge/${article.id}`, { method: "DELETE", ...as(slug, owner) });
    const gone = await ask(slug, u, "Do you support passkeys?");
    expect(gone.done).toMatchObject({ answered: false, sources: [] });
  });

  it("Chinese questions retrieve through bigrams", async () => {
    const { slug, owner } = await aiTenant();
    const u = await registerUser(slug);
    const refunds = await addArticle(slug, owner, {
      title: "退款政策",
      body: "购买后七天内可以申请退款。退款会在三个工作日内退回原支付方式。",
    });
    await addArticle(slug, owner, { title: "配送说明", body: "我们在两个工作日内发货。" });
    const twoChars = await ask(slug, u, "退款");
    expect(twoChars.done?.sources.map((s) => s.id)).toEqual([refunds.id]);
    expect(twoChars.text).toContain("退款");
    const sentence = await ask(slug, u, "怎么申请退款？");
    expect(sentence.done?.answered).toBe(true);
    expect(sentence.done?.sources.map((s) => s.id)).toEqual([refunds.id]);
  });
});
