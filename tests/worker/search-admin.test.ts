import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { platformDb } from "../../src/db/client";
import { findTenantBySlug } from "../../src/db/platform/tenants";
import { beginRebuild, postSource, type RebuildSource, runRebuild } from "../../src/db/tenant/search-rebuild";
import { tenantDb, tenantDbLocation } from "../../src/db/tenant-db";
import { as, registerUser } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { create, postTenant, type User } from "./post-helpers";
import { found } from "./search-helpers";

interface Status {
  documents: number;
  rows: number;
  lastRebuildAt: string | null;
  rebuilding: boolean;
}

async function dbOf(slug: string) {
  const row = await findTenantBySlug(platformDb(env), slug);
  return tenantDb(await tenantDbLocation(env, row!));
}

describe("search index administration", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let author: User;
  let other: User;
  const status = async () => {
    const res = await call("/v1/admin/search/status", as(slug, owner));
    expect(res.status, await res.clone().text()).toBe(200);
    return res.json<Status>();
  };

  beforeAll(async () => {
    ({ slug, owner, author, other } = await postTenant());
  });

  it("status and rebuild need content:reindex (admins and owners, not members or moderators)", async () => {
    await expectProblem(await call("/v1/admin/search/status", as(slug, other)), 403, "forbidden");
    await expectProblem(
      await call("/v1/admin/search/rebuild", { method: "POST", ...as(slug, other) }),
      403,
      "forbidden",
    );
    const mod = await registerUser(slug);
    const res = await call(`/v1/admin/users/${mod.userId}/roles`, {
      method: "PUT",
      ...as(slug, owner),
      json: { roles: ["moderator", "member"] },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await expectProblem(await call("/v1/admin/search/status", as(slug, mod)), 403, "forbidden");
    expect(await status()).toMatchObject({ rebuilding: false, lastRebuildAt: null });
  });

  it("a lost index is found out by status and restored by a background rebuild", async () => {
    const p = await create(slug, author, { body: "rebuildword one" });
    await create(slug, author, { body: "rebuildword draft", status: "draft" });
    const s0 = await status();
    expect(s0.documents).toBe(s0.rows);
    const db = await dbOf(slug);
    await db.batch([
      db.run(sql`DELETE FROM search_docs`),
      db.run(sql`INSERT INTO search_fts (search_fts) VALUES ('delete-all')`),
    ]);
    expect(await found(slug, other, "rebuildword")).toEqual([]);
    expect(await status()).toMatchObject({ documents: 0, rows: s0.rows });
    const res = await call("/v1/admin/search/rebuild", { method: "POST", ...as(slug, owner) });
    expect(res.status, await res.clone().text()).toBe(202);
    expect((await res.json<Status>()).rebuilding).toBe(true);
    let s = await status();
    for (let i = 0; i < 50 && s.rebuilding; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await status();
    }
    expect(s).toMatchObject({ rebuilding: false, documents: s0.rows, rows: s0.rows });
    expect(s.lastRebuildAt).not.toBeNull();
    expect(await found(slug, other, "rebuildword")).toEqual([p.id]);
  });

  it("writes made while a rebuild runs are not lost at the swap, nor overwritten by the rebuild's older read", async () => {
    const db = await dbOf(slug);
    const edited = await create(slug, author, { body: "racebefore alpha" });
    const deleted = await create(slug, author, { body: "racedeleted beta" });
    const since = Date.now();
    expect(await beginRebuild(db, since)).toBe(true);
    // A second rebuild does not start while this one runs.
    expect(await beginRebuild(db, since + 1)).toBe(false);
    const during = await create(slug, author, { body: "raceduring gamma" });
    // The rebuild reads its first page, then the edit and the delete land before it writes it.
    let raced = false;
    const racing: RebuildSource = {
      type: "post",
      async page(d, after, limit) {
        const rows = await postSource.page(d, after, limit);
        if (!raced) {
          raced = true;
          const patch = await call(`/v1/posts/${edited.id}`, {
            method: "PATCH",
            ...as(slug, author),
            json: { body: "raceafter alpha" },
          });
          expect(patch.status).toBe(200);
          expect((await call(`/v1/posts/${deleted.id}`, { method: "DELETE", ...as(slug, author) })).status).toBe(204);
        }
        return rows;
      },
    };
    // Queries use the old index meanwhile.
    expect(await found(slug, other, "racebefore")).toEqual([edited.id]);
    expect(await runRebuild(db, since, [racing], 100)).toBe(true);
    expect(await found(slug, other, "raceafter")).toEqual([edited.id]);
    expect(await found(slug, other, "racebefore")).toEqual([]);
    expect(await found(slug, other, "racedeleted")).toEqual([]);
    expect(await found(slug, other, "raceduring")).toEqual([during.id]);
    const s = await status();
    expect(s).toMatchObject({ rebuilding: false });
    expect(s.documents).toBe(s.rows);
    // After the swap, writes go to the live index again.
    const later = await create(slug, author, { body: "raceafterswap" });
    expect(await found(slug, other, "raceafterswap")).toEqual([later.id]);
  });

  it("a rebuild in pages of one document gives the same index", async () => {
    const db = await dbOf(slug);
    const before = await status();
    const since = Date.now();
    expect(await beginRebuild(db, since)).toBe(true);
    expect(await runRebuild(db, since, [postSource], 1)).toBe(true);
    expect(await status()).toMatchObject({ documents: before.rows, rows: before.rows, rebuilding: false });
    expect(await found(slug, other, "raceafter")).toHaveLength(2); // and raceafterswap
    expect(await found(slug, other, "rebuildword")).toHaveLength(1);
  });
});
