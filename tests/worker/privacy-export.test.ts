import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { unzipSync, strFromU8 } from "fflate";
import { describe, expect, it, vi } from "vitest";
import { as, befriend, bearer, registerUser, tenantWithOwner, type Tokens } from "./auth-helpers";
import { signDownload } from "../../src/workers/file-links/file-urls";
import { call, expectProblem, tenantDbOf } from "./helpers";
import { upload } from "./post-helpers";

interface ExportView {
  id: string;
  status: "pending" | "ready" | "failed";
  url?: string;
  expiresAt?: string;
  size?: number;
}

const ready = (slug: string, u: { tokens: Tokens }, path: string) =>
  vi.waitFor(
    async () => {
      const res = await call(path, as(slug, u));
      expect(res.status).toBe(200);
      const e = await res.json<ExportView>();
      expect(e.status).toBe("ready");
      return e;
    },
    { timeout: 30_000, interval: 500 },
  );

/** The download URL's path and query, called as the given user. */
const download = (slug: string, url: string, headers: Record<string, string>) => {
  const u = new URL(url);
  return call(`${u.pathname}${u.search}`, { tenant: slug, headers });
};

describe("data export", () => {
  it("builds a ZIP of everything the user made, with a README; the URL works for that user only", async () => {
    const { tenant } = await tenantWithOwner();
    const other = await tenantWithOwner();
    const slug = tenant.slug;
    const [u, friend, stranger] = await Promise.all([registerUser(slug), registerUser(slug), registerUser(slug)]);
    await befriend(slug, u, friend);
    const conv = await call("/v1/conversations", {
      method: "POST",
      ...as(slug, u),
      json: { type: "group", name: "g", memberIds: [friend.userId] },
    });
    const gid = (await conv.json<{ id: string }>()).id;
    for (const text of ["first words", "second words"])
      await call(`/v1/conversations/${gid}/messages`, {
        method: "POST",
        ...as(slug, u),
        json: { clientId: crypto.randomUUID(), kind: "text", body: { text } },
      });
    await call(`/v1/conversations/${gid}/messages`, {
      method: "POST",
      ...as(slug, friend),
      json: { clientId: crypto.randomUUID(), kind: "text", body: { text: "the friend's words" } },
    });
    const fileId = await upload(slug, u);
    const post = await call("/v1/posts", {
      method: "POST",
      ...as(slug, u),
      json: { title: "exported", body: "a post body", visibility: "public" },
    });
    expect(post.status).toBe(201);
    // The archive copy of messages is made by the event pipeline: wait for it.
    const { db } = await tenantDbOf(slug);
    await vi.waitFor(
      async () => {
        const [n] = await db.all<{ n: number }>(
          sql`SELECT count(*) AS n FROM archived_messages WHERE sender_id = ${u.userId}`,
        );
        expect(n!.n).toBe(2);
      },
      { timeout: 20_000, interval: 500 },
    );

    const created = await call("/v1/me/exports", { method: "POST", ...as(slug, u) });
    expect(created.status, await created.clone().text()).toBe(202);
    const { id } = await created.json<{ id: string }>();
    // One per 24 hours, racing requests included.
    const again = await Promise.all([1, 2].map(() => call("/v1/me/exports", { method: "POST", ...as(slug, u) })));
    for (const r of again) {
      await expectProblem(r, 429, "export_too_soon");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(86_000);
    }
    const e = await ready(slug, u, `/v1/me/exports/${id}`);
    expect(Date.parse(e.expiresAt!) - Date.now()).toBeGreaterThan(6 * 86_400_000);

    const res = await download(slug, e.url!, bearer(u.tokens.accessToken));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.byteLength).toBe(e.size);
    const zip = unzipSync(bytes);
    const read = (name: string) => JSON.parse(strFromU8(zip[name]!)) as Record<string, unknown>[];
    expect(Object.keys(zip)).toEqual(expect.arrayContaining(["README.md", "account.json", "messages.json"]));
    expect(read("account.json")[0]).toMatchObject({ id: u.userId, email: u.email, username: u.username });
    expect(JSON.stringify(read("account.json"))).not.toContain("password");
    expect(read("friends.json").map((f) => f.userId)).toEqual([friend.userId]);
    const texts = read("messages.json").map((m) => JSON.parse(String(m.body)).text);
    expect(texts.sort()).toEqual(["first words", "second words"]);
    expect(read("posts.json").map((p) => p.title)).toEqual(["exported"]);
    expect(read("files.json").map((f) => f.id)).toEqual([fileId]);
    const stored = Object.keys(zip).find((k) => k.startsWith(`files/${fileId}/`));
    expect(stored).toBeTruthy();
    expect(zip[stored!]!.byteLength).toBe(Number(read("files.json")[0]!.size));

    // Another user of the tenant, and a token of another tenant, cannot use the URL.
    await expectProblem(await download(slug, e.url!, bearer(stranger.tokens.accessToken)), 403, "invalid_export_url");
    expect((await download(other.tenant.slug, e.url!, bearer(u.tokens.accessToken))).status).toBe(401);
    const forged = e.url!.replace(/sig=[^&]+/, `sig=${"A".repeat(43)}`);
    await expectProblem(await download(slug, forged, bearer(u.tokens.accessToken)), 403, "invalid_export_url");
    // Nor see the export.
    await expectProblem(await call(`/v1/me/exports/${id}`, as(slug, stranger)), 404, "export_not_found");
  });

  it("an admin exports a user (users:export) with a URL signed for the admin; a member cannot", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const slug = tenant.slug;
    const [u, member] = await Promise.all([registerUser(slug), registerUser(slug)]);
    await expectProblem(
      await call(`/v1/admin/users/${u.userId}/exports`, { method: "POST", ...as(slug, member) }),
      403,
      "forbidden",
    );
    const res = await call(`/v1/admin/users/${u.userId}/exports`, { method: "POST", ...as(slug, owner) });
    expect(res.status).toBe(202);
    const { id } = await res.json<{ id: string }>();
    // One of an admin's exports per user at a time: a second ask while the first builds, or a later one.
    const second = await call(`/v1/admin/users/${u.userId}/exports`, { method: "POST", ...as(slug, owner) });
    expect([202, 429]).toContain(second.status);
    const e = await ready(slug, owner, `/v1/admin/users/${u.userId}/exports/${id}`);
    expect((await download(slug, e.url!, bearer(owner.tokens.accessToken))).status).toBe(200);
    // A URL genuinely signed for the owner but past its expiry is refused.
    const exp = Math.floor(Date.now() / 1000) - 1;
    const ownerId = (await (await call("/v1/me", as(slug, owner))).json<{ id: string }>()).id;
    const sig = await signDownload(env.DB_ENCRYPTION_KEY, tenant.id, `export:${id}:${ownerId}`, exp);
    await expectProblem(
      await call(`/v1/exports/${id}/download?exp=${exp}&sig=${sig}`, as(slug, owner)),
      403,
      "invalid_export_url",
    );
    // Another admin sees neither the export nor its archive.
    const admin = await registerUser(slug);
    const promoted = await call(`/v1/admin/users/${admin.userId}/roles`, {
      method: "PUT",
      ...as(slug, owner),
      json: { roles: ["admin", "member"] },
    });
    expect(promoted.status).toBe(200);
    await expectProblem(
      await call(`/v1/admin/users/${u.userId}/exports/${id}`, as(slug, admin)),
      404,
      "export_not_found",
    );
    await expectProblem(await download(slug, e.url!, bearer(admin.tokens.accessToken)), 403, "invalid_export_url");
    // The user's own URL list does not show it, and the admin's URL is not theirs.
    await expectProblem(await call(`/v1/me/exports/${id}`, as(slug, u)), 404, "export_not_found");
    await expectProblem(await download(slug, e.url!, bearer(u.tokens.accessToken)), 403, "invalid_export_url");
    // The admin's own 24-hour window is not spent by exporting someone else.
    expect((await call("/v1/me/exports", { method: "POST", ...as(slug, u) })).status).toBe(202);
    await expectProblem(
      await call(`/v1/admin/users/nope/exports`, { method: "POST", ...as(slug, owner) }),
      404,
      "user_not_found",
    );
    expect(env.FILES).toBeTruthy();
  });
});
