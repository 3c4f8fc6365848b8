import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { as } from "./auth-helpers";
import { comment, threads } from "./comment-helpers";
import { call, expectProblem, tenantDbOf } from "./helpers";
import { create, ids, members, moderator, type Post, postTenant, type User } from "./post-helpers";
import { found } from "./search-helpers";

interface Report {
  id: string;
  targetType: string;
  targetId: string;
  postId: string;
  status: string;
  resolvedBy: string | null;
}

const reportPost = (slug: string, u: User, id: string, json: unknown = { reason: "spam" }) =>
  call(`/v1/posts/${id}/reports`, { method: "POST", ...as(slug, u), json });

describe("reports and moderators' actions", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let mod: User;

  beforeAll(async () => {
    ({ slug, owner } = await postTenant());
    mod = await moderator(slug, owner);
  });

  it("one open report per reporter and item, also under parallel requests", async () => {
    const [author, r1, r2] = await members(slug, 3);
    const p = await create(slug, author, { body: "reportable" });
    const results = await Promise.all(Array.from({ length: 6 }, () => reportPost(slug, r1, p.id)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const reports = await Promise.all(results.map((r) => r.json<Report>()));
    expect(new Set(reports.map((r) => r.id)).size).toBe(1);
    expect(reports[0]).toMatchObject({ targetType: "post", targetId: p.id, postId: p.id, status: "open" });
    expect((await reportPost(slug, r2, p.id)).status).toBe(201);
    const c = await comment(slug, author, p.id, "a comment");
    const cr = await call(`/v1/comments/${c.id}/reports`, {
      method: "POST",
      ...as(slug, r1),
      json: { reason: "harassment", detail: "line one\nline two" },
    });
    expect(cr.status).toBe(201);
    expect(await cr.json<Report>()).toMatchObject({ targetType: "comment", targetId: c.id, postId: p.id });
    // Hostile: hidden posts, bad reasons, long details, unknown fields, other tenants.
    const priv = await create(slug, author, { body: "mine", visibility: "private" });
    await expectProblem(await reportPost(slug, r1, priv.id), 404, "post_not_found");
    for (const json of [
      {},
      { reason: "boring" },
      { reason: "spam", detail: "x".repeat(1001) },
      { reason: "spam", x: 1 },
    ])
      await expectProblem(await reportPost(slug, r1, p.id, json), 400, "validation_failed");
    const there = await postTenant();
    const theirs = await create(there.slug, there.author, { body: "theirs" });
    await expectProblem(await reportPost(slug, r1, theirs.id), 404, "post_not_found");
  });

  it("the queue and resolutions: members are refused; dismiss resolves every open report of the item", async () => {
    const [author, r1, r2] = await members(slug, 3);
    const p = await create(slug, author, { body: "queued" });
    const a = await (await reportPost(slug, r1, p.id)).json<Report>();
    const b = await (await reportPost(slug, r2, p.id)).json<Report>();
    await expectProblem(await call("/v1/admin/reports", as(slug, r1)), 403, "forbidden");
    await expectProblem(
      await call(`/v1/admin/reports/${a.id}/resolve`, {
        method: "POST",
        ...as(slug, author),
        json: { action: "dismiss" },
      }),
      403,
      "forbidden",
    );
    const queue = await (await call("/v1/admin/reports?limit=100", as(slug, mod))).json<{ items: Report[] }>();
    const mine = queue.items.filter((r) => r.targetId === p.id).map((r) => r.id);
    expect(mine).toEqual([a.id, b.id]);
    const res = await call(`/v1/admin/reports/${a.id}/resolve`, {
      method: "POST",
      ...as(slug, mod),
      json: { action: "dismiss" },
    });
    expect(await res.json<Report>()).toMatchObject({ status: "dismissed", resolvedBy: mod.userId });
    await expectProblem(
      await call(`/v1/admin/reports/${b.id}/resolve`, { method: "POST", ...as(slug, mod), json: { action: "remove" } }),
      409,
      "report_resolved",
    );
    await expectProblem(
      await call("/v1/admin/reports/nope/resolve", { method: "POST", ...as(slug, mod), json: { action: "dismiss" } }),
      404,
      "report_not_found",
    );
    await expectProblem(
      await call(`/v1/admin/reports/${b.id}/resolve`, { method: "POST", ...as(slug, mod), json: { action: "ban" } }),
      400,
      "validation_failed",
    );
    // Dismissed: the post is untouched, and the reporter may report it again.
    expect((await call(`/v1/posts/${p.id}`, as(slug, r1))).status).toBe(200);
    expect((await reportPost(slug, r1, p.id)).status).toBe(201);
  });

  it("removal by report: gone from every list, feed and search for others; its author and moderators see it", async () => {
    const [author, reader] = await members(slug, 2);
    expect((await call(`/v1/users/${author.userId}/follow`, { method: "PUT", ...as(slug, reader) })).status).toBe(200);
    const p = await create(slug, author, { body: "vanishingword here", tags: ["vanish"] });
    const rep = await (await reportPost(slug, reader, p.id)).json<Report>();
    const res = await call(`/v1/admin/reports/${rep.id}/resolve`, {
      method: "POST",
      ...as(slug, mod),
      json: { action: "remove" },
    });
    expect(await res.json<Report>()).toMatchObject({ status: "actioned" });
    await expectProblem(await call(`/v1/posts/${p.id}`, as(slug, reader)), 404, "post_not_found");
    expect((await (await call(`/v1/posts/${p.id}`, as(slug, author))).json<Post>()).status).toBe("removed");
    expect((await (await call(`/v1/posts/${p.id}`, as(slug, mod))).json<Post>()).status).toBe("removed");
    expect(await ids(await call("/v1/feeds/following", as(slug, reader)))).not.toContain(p.id);
    expect(await ids(await call("/v1/tags/vanish/posts", as(slug, reader)))).toEqual([]);
    expect(await ids(await call(`/v1/users/${author.userId}/posts`, as(slug, reader)))).toEqual([]);
    expect(await found(slug, reader, "vanishingword")).toEqual([]);
    await expectProblem(
      await call(`/v1/posts/${p.id}/like`, { method: "PUT", ...as(slug, reader) }),
      404,
      "post_not_found",
    );
    expect(await ids(await call("/v1/me/posts", as(slug, author)))).toContain(p.id);
    expect(await ids(await call("/v1/admin/posts?status=removed", as(slug, mod)))).toContain(p.id);
    const { db } = await tenantDbOf(slug);
    const ev = await db.get<{ n: number }>(
      sql`SELECT count(*) AS n FROM outbox WHERE type = 'post.removed' AND json_extract(data, '$.postId') = ${p.id}`,
    );
    expect(Number(ev?.n)).toBe(1);
    // Approve is for held posts, not removed ones.
    await expectProblem(
      await call(`/v1/admin/posts/${p.id}/approve`, { method: "POST", ...as(slug, mod) }),
      409,
      "post_state_conflict",
    );
    // Restored: back everywhere; a second restore (or an approve) of a published post is a no-op.
    const restore = () => call(`/v1/admin/posts/${p.id}/restore`, { method: "POST", ...as(slug, mod) });
    expect((await (await restore()).json<Post>()).status).toBe("published");
    expect((await restore()).status).toBe(200);
    expect(await found(slug, reader, "vanishingword")).toEqual([p.id]);
    expect(await ids(await call("/v1/tags/vanish/posts", as(slug, reader)))).toEqual([p.id]);
    expect((await call(`/v1/admin/posts/${p.id}/approve`, { method: "POST", ...as(slug, mod) })).status).toBe(200);
  });

  it("moderator actions: rights, drafts, other tenants, wrong states; comment removal keeps the counters exact", async () => {
    const [author, other] = await members(slug, 2);
    const p = await create(slug, author, { body: "target" });
    const draft = await create(slug, author, { body: "draft", status: "draft" });
    const act = (u: { tokens: User["tokens"] }, id: string, what: string) =>
      call(`/v1/admin/posts/${id}/${what}`, { method: "POST", ...as(slug, u) });
    await expectProblem(await act(other, p.id, "remove"), 403, "forbidden");
    await expectProblem(await act(author, p.id, "remove"), 403, "forbidden");
    await expectProblem(await act(mod, draft.id, "remove"), 404, "post_not_found");
    // Restore and approve of a published post: already so, answered as it is.
    expect((await act(mod, p.id, "restore")).status).toBe(200);
    expect((await act(mod, p.id, "approve")).status).toBe(200);
    const there = await postTenant();
    const theirs = await create(there.slug, there.author, { body: "theirs" });
    await expectProblem(await act(mod, theirs.id, "remove"), 404, "post_not_found");
    const [r1, r2] = await Promise.all([act(mod, p.id, "remove"), act(owner, p.id, "remove")]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    // A removed post cannot be approved (approve is for held posts); restore applies.
    await expectProblem(await act(mod, p.id, "approve"), 409, "post_state_conflict");

    const q = await create(slug, author, { body: "with comments" });
    const top = await comment(slug, other, q.id, "top");
    await comment(slug, author, q.id, "reply", top.id);
    const removeC = (u: { tokens: User["tokens"] }) =>
      call(`/v1/admin/comments/${top.id}/remove`, { method: "POST", ...as(slug, u) });
    await expectProblem(await removeC(other), 403, "forbidden");
    const removed = await Promise.all([removeC(mod), removeC(mod)]);
    expect(removed.map((r) => r.status)).toEqual([200, 200]);
    const items = (await threads(slug, other, q.id)).items;
    expect(items[0]).toMatchObject({ id: top.id, deleted: true, body: "" });
    expect((await (await call(`/v1/posts/${q.id}`, as(slug, other))).json<Post>()).counts.comments).toBe(1);
  });

  it("ranks: a moderator cannot remove or delete what an owner wrote; comment removal by report needs comments:moderate", async () => {
    const ownerUser = owner as User;
    const [reader] = await members(slug, 1);
    const p = await create(slug, ownerUser, { body: "the owner's" });
    const c = await comment(slug, ownerUser, p.id, "the owner's comment");
    const theirs = await create(slug, reader, { body: "a member's" });
    const onTheirs = await comment(slug, ownerUser, theirs.id, "owner commenting elsewhere");
    await expectProblem(await call(`/v1/posts/${p.id}`, { method: "DELETE", ...as(slug, mod) }), 403, "rank_too_low");
    await expectProblem(
      await call(`/v1/admin/posts/${p.id}/remove`, { method: "POST", ...as(slug, mod) }),
      403,
      "rank_too_low",
    );
    await expectProblem(
      await call(`/v1/comments/${onTheirs.id}`, { method: "DELETE", ...as(slug, mod) }),
      403,
      "rank_too_low",
    );
    await expectProblem(
      await call(`/v1/admin/comments/${c.id}/remove`, { method: "POST", ...as(slug, mod) }),
      403,
      "rank_too_low",
    );
    const rep = await (await reportPost(slug, reader, p.id)).json<Report>();
    await expectProblem(
      await call(`/v1/admin/reports/${rep.id}/resolve`, {
        method: "POST",
        ...as(slug, mod),
        json: { action: "remove" },
      }),
      403,
      "rank_too_low",
    );
    expect((await call(`/v1/posts/${p.id}`, as(slug, reader))).status).toBe(200);
    // The post's author may still delete any comment on their post, whoever wrote it.
    expect((await call(`/v1/comments/${onTheirs.id}`, { method: "DELETE", ...as(slug, reader) })).status).toBe(204);

    // A custom role with posts:moderate only resolves post reports, not comment removals.
    const role = await call("/v1/admin/roles", {
      method: "POST",
      ...as(slug, owner),
      json: { name: "post-mod", permissions: ["posts:moderate"], rank: 40 },
    });
    expect(role.status, await role.clone().text()).toBe(201);
    const [pm, writer] = await members(slug, 2);
    const grant = await call(`/v1/admin/users/${pm.userId}/roles`, {
      method: "PUT",
      ...as(slug, owner),
      json: { roles: ["post-mod", "member"] },
    });
    expect(grant.status, await grant.clone().text()).toBe(200);
    const q = await create(slug, writer, { body: "host" });
    const bad = await comment(slug, writer, q.id, "reported comment");
    const cr = await call(`/v1/comments/${bad.id}/reports`, {
      method: "POST",
      ...as(slug, reader),
      json: { reason: "spam" },
    });
    const crep = await cr.json<Report>();
    await expectProblem(
      await call(`/v1/admin/reports/${crep.id}/resolve`, {
        method: "POST",
        ...as(slug, pm),
        json: { action: "remove" },
      }),
      403,
      "forbidden",
    );
    const ok = await call(`/v1/admin/reports/${crep.id}/resolve`, {
      method: "POST",
      ...as(slug, pm),
      json: { action: "dismiss" },
    });
    expect((await ok.json<Report>()).status).toBe("dismissed");
  });

  it("two moderators resolving one report at once: one removal, one post.removed, the report actioned", async () => {
    const [author, r1, r2] = await members(slug, 3);
    const other = await moderator(slug, owner);
    const p = await create(slug, author, { body: "raced" });
    const a = await (await reportPost(slug, r1, p.id)).json<Report>();
    const b = await (await reportPost(slug, r2, p.id)).json<Report>();
    const resolve = (u: User, id: string) =>
      call(`/v1/admin/reports/${id}/resolve`, { method: "POST", ...as(slug, u), json: { action: "remove" } });
    const results = await Promise.all([resolve(mod, a.id), resolve(other, b.id), resolve(mod, b.id)]);
    for (const r of results) expect([200, 409]).toContain(r.status);
    expect(results.some((r) => r.status === 200)).toBe(true);
    const { db } = await tenantDbOf(slug);
    const ev = await db.get<{ n: number }>(
      sql`SELECT count(*) AS n FROM outbox WHERE type = 'post.removed' AND json_extract(data, '$.postId') = ${p.id}`,
    );
    expect(Number(ev?.n)).toBe(1);
    const open = await db.get<{ n: number }>(
      sql`SELECT count(*) AS n FROM reports WHERE target_id = ${p.id} AND status <> 'actioned'`,
    );
    expect(Number(open?.n)).toBe(0);
    expect((await (await call(`/v1/posts/${p.id}`, as(slug, author))).json<Post>()).status).toBe("removed");
  });
});
