import { beforeAll, describe, expect, it } from "vitest";
import { as, befriend, registerUser } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { create, ids, type Post, postTenant, type User, VISIBILITIES } from "./post-helpers";

describe("who may see, edit and delete a post", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let author: User;
  let other: User;

  beforeAll(async () => {
    ({ slug, owner, author, other } = await postTenant());
  });

  it("the visibility matrix on GET /v1/posts/{id} and GET /v1/users/{id}/posts", async () => {
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
    const posts = Object.fromEntries(
      await Promise.all(
        VISIBILITIES.map(async (v) => [v, (await create(slug, writer, { body: v, visibility: v })).id]),
      ),
    ) as Record<(typeof VISIBILITIES)[number], string>;
    const sees: Record<string, { who: User; visible: string[] }> = {
      stranger: { who: stranger, visible: ["public"] },
      follower: { who: follower, visible: ["public", "followers"] },
      friend: { who: friend, visible: ["public", "friends"] },
      blocked: { who: blocked, visible: [] },
      author: { who: writer, visible: [...VISIBILITIES] },
    };
    for (const [name, { who, visible }] of Object.entries(sees)) {
      for (const v of VISIBILITIES) {
        const res = await call(`/v1/posts/${posts[v]}`, as(slug, who));
        if (visible.includes(v)) expect(res.status, `${name} sees ${v}`).toBe(200);
        else await expectProblem(res, 404, "post_not_found");
      }
      const list = await call(`/v1/users/${writer.userId}/posts`, as(slug, who));
      if (name === "blocked") await expectProblem(list, 404, "user_not_found");
      else expect((await ids(list)).sort(), name).toEqual(visible.map((v) => posts[v as keyof typeof posts]).sort());
    }
    // Blocks hide both ways: the blocker does not see the blocked user's posts either.
    const theirs = await create(slug, blocked, { body: "from the blocked side" });
    await expectProblem(await call(`/v1/posts/${theirs.id}`, as(slug, writer)), 404, "post_not_found");
  });

  it("another user can neither edit nor delete a post; a moderator can delete it", async () => {
    const p = await create(slug, author, { body: "mine" });
    const priv = await create(slug, author, { body: "secret", visibility: "private" });
    await expectProblem(
      await call(`/v1/posts/${p.id}`, { method: "PATCH", ...as(slug, other), json: { body: "hijack" } }),
      403,
      "forbidden",
    );
    await expectProblem(await call(`/v1/posts/${p.id}`, { method: "DELETE", ...as(slug, other) }), 403, "forbidden");
    // A post they cannot see is a 404, not a 403.
    await expectProblem(
      await call(`/v1/posts/${priv.id}`, { method: "PATCH", ...as(slug, other), json: { body: "x" } }),
      404,
      "post_not_found",
    );
    await expectProblem(
      await call(`/v1/posts/${priv.id}`, { method: "DELETE", ...as(slug, other) }),
      404,
      "post_not_found",
    );
    expect((await (await call(`/v1/posts/${p.id}`, as(slug, author))).json<Post>()).body).toBe("mine");

    const mod = await registerUser(slug);
    const res = await call(`/v1/admin/users/${mod.userId}/roles`, {
      method: "PUT",
      ...as(slug, owner),
      json: { roles: ["moderator", "member"] },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await call(`/v1/posts/${priv.id}`, { method: "DELETE", ...as(slug, mod) })).status).toBe(204);
    expect((await call(`/v1/posts/${p.id}`, { method: "DELETE", ...as(slug, mod) })).status).toBe(204);
    await expectProblem(await call(`/v1/posts/${p.id}`, as(slug, author)), 404, "post_not_found");
  });

  it("hostile input: tenant body limit, too many or long tags, control characters, unknown ids", async () => {
    const post = (json: unknown) => call("/v1/posts", { method: "POST", ...as(slug, author), json });
    await expectProblem(await post({ body: "x".repeat(501) }), 400, "validation_failed");
    expect((await post({ body: "字".repeat(500) })).status).toBe(201);
    await expectProblem(await post({ body: "" }), 400, "validation_failed");
    await expectProblem(
      await post({ body: "x", tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }),
      400,
      "validation_failed",
    );
    await expectProblem(await post({ body: "x", tags: ["a".repeat(33)] }), 400, "validation_failed");
    await expectProblem(await post({ body: "x", title: "bad\u0007title" }), 400, "validation_failed");
    await expectProblem(await post({ body: "trojan \u202e source" }), 400, "validation_failed");
    await expectProblem(await post({ body: "x", visibility: "everyone" }), 400, "validation_failed");
    await expectProblem(await post({ body: "x", status: "removed" }), 400, "validation_failed");
    await expectProblem(await post({ body: "x", authorId: other.userId }), 400, "validation_failed");
    expect((await post({ body: "line one\n\tline two" })).status).toBe(201);
    await expectProblem(await call("/v1/posts/nope", as(slug, author)), 404, "post_not_found");
    await expectProblem(await call("/v1/users/nobody/posts", as(slug, author)), 404, "user_not_found");
  });

  it("a suspended author's posts are hidden from others, as their profile is", async () => {
    const [writer, reader] = await Promise.all([registerUser(slug), registerUser(slug)]);
    const p = await create(slug, writer, { body: "soon hidden" });
    expect((await call(`/v1/posts/${p.id}`, as(slug, reader))).status).toBe(200);
    const res = await call(`/v1/admin/users/${writer.userId}/suspend`, { method: "POST", ...as(slug, owner) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    await expectProblem(await call(`/v1/posts/${p.id}`, as(slug, reader)), 404, "post_not_found");
    await expectProblem(await call(`/v1/users/${writer.userId}/posts`, as(slug, reader)), 404, "user_not_found");
  });
});
