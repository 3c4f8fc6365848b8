import { describe, expect, it } from "vitest";
import { bearer, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

type Page = { items: { id: string; nickname: string }[]; nextCursor: string | null };

describe("profiles and settings", () => {
  it("creates a profile with the account; PATCH /v1/me updates only profile fields", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const h = bearer(u.tokens.accessToken);
    const me = await (await call("/v1/me", { tenant: t.slug, headers: h })).json<{
      nickname: string;
      roles: string[];
    }>();
    expect(me.nickname).toBe(u.username);
    const res = await call("/v1/me", {
      method: "PATCH",
      tenant: t.slug,
      headers: h,
      json: { nickname: "小明", bio: "hello", locale: "zh-Hans-CN" },
    });
    expect(res.status).toBe(200);
    expect(await (await call("/v1/me", { tenant: t.slug, headers: h })).json()).toMatchObject({
      nickname: "小明",
      bio: "hello",
      locale: "zh-Hans-CN",
      roles: ["member"],
    });
    // Privileged fields are not profile fields.
    for (const body of [{ roles: ["owner"] }, { status: "active" }, { tenantId: "x" }, { email: "x@y.z" }, {}]) {
      await expectProblem(
        await call("/v1/me", { method: "PATCH", tenant: t.slug, headers: h, json: body }),
        400,
        "validation_failed",
      );
    }
    await expectProblem(
      await call("/v1/me", { method: "PATCH", tenant: t.slug, headers: h, json: { avatarFileId: "not-my-file" } }),
      400,
      "invalid_avatar",
    );
  });

  it("settings: defaults, partial updates, validation", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const h = bearer(u.tokens.accessToken);
    expect(await (await call("/v1/me/settings", { tenant: t.slug, headers: h })).json()).toMatchObject({
      privacy: { searchable: true, friendRequests: "approval", presence: "friends" },
    });
    const put = await call("/v1/me/settings", {
      method: "PUT",
      tenant: t.slug,
      headers: h,
      json: { privacy: { presence: "nobody" } },
    });
    expect(await put.json()).toMatchObject({
      privacy: { searchable: true, presence: "nobody" },
      notifications: { messages: true },
    });
    await expectProblem(
      await call("/v1/me/settings", {
        method: "PUT",
        tenant: t.slug,
        headers: h,
        json: { privacy: { presence: "aliens" } },
      }),
      400,
      "validation_failed",
    );
  });

  it("GET /v1/users/{id} shows public fields only; unknown, deleted and other tenants' users are 404", async () => {
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const view = await (
      await call(`/v1/users/${b.userId}`, { tenant: t.slug, headers: bearer(a.tokens.accessToken) })
    ).json<Record<string, unknown>>();
    expect(view).toMatchObject({ id: b.userId, username: b.username, followers: 0, following: 0 });
    expect(view).not.toHaveProperty("email");
    expect(view).not.toHaveProperty("roles");
    await expectProblem(
      await call("/v1/users/01aaaaaaaaaaaaaaaaaaaaaaaa", { tenant: t.slug, headers: bearer(a.tokens.accessToken) }),
      404,
      "user_not_found",
    );
    const other = await createTenant();
    const c = await registerUser(other.slug);
    await expectProblem(
      await call(`/v1/users/${c.userId}`, { tenant: t.slug, headers: bearer(a.tokens.accessToken) }),
      404,
      "user_not_found",
    );
  });
});

describe("search", () => {
  it("finds by username or nickname prefix and substring, Chinese included (2- and 3+-character queries)", async () => {
    const t = await createTenant();
    const searcher = await registerUser(t.slug);
    const zh = await registerUser(t.slug);
    await call("/v1/me", {
      method: "PATCH",
      tenant: t.slug,
      headers: bearer(zh.tokens.accessToken),
      json: { nickname: "王小明同学" },
    });
    const en = await registerUser(t.slug, { username: `alexander_${crypto.randomUUID().slice(0, 4)}` });
    const q = async (s: string) =>
      (
        await (
          await call(`/v1/users?q=${encodeURIComponent(s)}`, {
            tenant: t.slug,
            headers: bearer(searcher.tokens.accessToken),
          })
        ).json<Page>()
      ).items.map((i) => i.id);
    expect(await q("小明")).toEqual([zh.userId]); // 2 characters: LIKE path
    expect(await q("王小明")).toEqual([zh.userId]); // 3+: trigram FTS
    expect(await q("明同学")).toEqual([zh.userId]); // substring
    expect(await q("alex")).toEqual([en.userId]); // prefix
    expect(await q("XANDER")).toEqual([en.userId]); // substring, case-blind
    expect(await q("nobody-like-this")).toEqual([]);
    expect(await q("%")).toEqual([]); // LIKE metacharacters are literal
    expect(await q(searcher.username)).toEqual([]); // not yourself
  });

  it("excludes unsearchable users and paginates with cursors", async () => {
    const t = await createTenant();
    const searcher = await registerUser(t.slug);
    const tag = `zq${crypto.randomUUID().slice(0, 4)}`;
    const found: string[] = [];
    for (let i = 0; i < 5; i++) found.push((await registerUser(t.slug, { username: `${tag}_${i}` })).userId);
    const hidden = await registerUser(t.slug, { username: `${tag}_hidden` });
    await call("/v1/me/settings", {
      method: "PUT",
      tenant: t.slug,
      headers: bearer(hidden.tokens.accessToken),
      json: { privacy: { searchable: false } },
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await (
        await call(`/v1/users?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
          tenant: t.slug,
          headers: bearer(searcher.tokens.accessToken),
        })
      ).json();
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(found.sort());
    await expectProblem(
      await call("/v1/users?q=", { tenant: t.slug, headers: bearer(searcher.tokens.accessToken) }),
      400,
      "validation_failed",
    );
  });
});

describe("follows", () => {
  it("follow and unfollow idempotently; lists and counts", async () => {
    const t = await createTenant();
    const [a, b, c] = [await registerUser(t.slug), await registerUser(t.slug), await registerUser(t.slug)];
    const follow = (who: typeof a, target: string, method = "PUT") =>
      call(`/v1/users/${target}/follow`, { method, tenant: t.slug, headers: bearer(who.tokens.accessToken) });
    expect(await (await follow(a, b.userId)).json()).toEqual({ following: true });
    expect((await follow(a, b.userId)).status).toBe(200); // retry
    expect((await follow(c, b.userId)).status).toBe(200);
    await expectProblem(await follow(a, a.userId), 400, "cannot_follow_self");
    await expectProblem(await follow(a, "01aaaaaaaaaaaaaaaaaaaaaaaa"), 404, "user_not_found");
    const followers = await (
      await call(`/v1/users/${b.userId}/followers?limit=1`, { tenant: t.slug, headers: bearer(a.tokens.accessToken) })
    ).json<Page>();
    expect(followers.items.map((i) => i.id)).toEqual([c.userId]); // newest first
    const next = await (
      await call(`/v1/users/${b.userId}/followers?limit=1&cursor=${followers.nextCursor}`, {
        tenant: t.slug,
        headers: bearer(a.tokens.accessToken),
      })
    ).json<Page>();
    expect(next.items.map((i) => i.id)).toEqual([a.userId]);
    expect(next.nextCursor).toBeNull();
    expect(
      await (await call(`/v1/users/${b.userId}`, { tenant: t.slug, headers: bearer(a.tokens.accessToken) })).json(),
    ).toMatchObject({ followers: 2, following: 0 });
    expect(await (await follow(a, b.userId, "DELETE")).json()).toEqual({ following: false });
    const following = await (
      await call(`/v1/users/${a.userId}/following`, { tenant: t.slug, headers: bearer(a.tokens.accessToken) })
    ).json<Page>();
    expect(following.items).toEqual([]);
    // Unfollow stays idempotent for a real user; an id naming nobody here is a 404, also for DELETE.
    expect((await follow(a, b.userId, "DELETE")).status).toBe(200);
    for (const garbage of ["01aaaaaaaaaaaaaaaaaaaaaaaa", "x", "%3Cscript%3E", "%F0%9F%98%80"]) {
      await expectProblem(await follow(a, garbage, "DELETE"), 404, "user_not_found");
      await expectProblem(
        await call(`/v1/blocks/${garbage}`, {
          method: "DELETE",
          tenant: t.slug,
          headers: bearer(a.tokens.accessToken),
        }),
        404,
        "user_not_found",
      );
    }
    const other = await createTenant();
    const stranger = await registerUser(other.slug);
    await expectProblem(await follow(a, stranger.userId, "DELETE"), 404, "user_not_found");
    await expectProblem(
      await call(`/v1/blocks/${stranger.userId}`, {
        method: "DELETE",
        tenant: t.slug,
        headers: bearer(a.tokens.accessToken),
      }),
      404,
      "user_not_found",
    );
    expect(
      (
        await call(`/v1/blocks/${c.userId}`, {
          method: "DELETE",
          tenant: t.slug,
          headers: bearer(a.tokens.accessToken),
        })
      ).status,
    ).toBe(204);
  });
});

describe("avatars", () => {
  it("a user's own avatar upload becomes the profile avatar; someone else's does not", async () => {
    const { fromBase64url } = await import("../../src/lib/ids");
    const png = fromBase64url(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg",
    );
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const form = new FormData();
    form.set("purpose", "avatar");
    form.set("file", new Blob([png], { type: "image/png" }), "me.png");
    const up = await call("/v1/files", {
      method: "POST",
      tenant: t.slug,
      headers: bearer(a.tokens.accessToken),
      body: form,
    });
    expect(up.status).toBe(201);
    const { id } = await up.json<{ id: string }>();
    await expectProblem(
      await call("/v1/me", {
        method: "PATCH",
        tenant: t.slug,
        headers: bearer(b.tokens.accessToken),
        json: { avatarFileId: id },
      }),
      400,
      "invalid_avatar",
    );
    const ok = await call("/v1/me", {
      method: "PATCH",
      tenant: t.slug,
      headers: bearer(a.tokens.accessToken),
      json: { avatarFileId: id },
    });
    expect(await ok.json()).toMatchObject({ avatarFileId: id });
    expect(
      await (await call(`/v1/users/${a.userId}`, { tenant: t.slug, headers: bearer(b.tokens.accessToken) })).json(),
    ).toMatchObject({ avatarFileId: id });
  });
});
