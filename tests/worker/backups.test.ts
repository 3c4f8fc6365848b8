import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { as, befriend, bearer, login, registerUser, tenantWithOwner, type Tokens } from "./auth-helpers";
import { balance, credit } from "./commerce-helpers";
import { call, createTenant, expectProblem, tenantDbOf, tenantScopeOf, uniqueSlug } from "./helpers";
import { code, previousStepCode } from "./mfa-helpers";
import { create, upload } from "./post-helpers";
import { backupSweep } from "../../src/workers/admin/backups/schedule";
import { r2KeyOf } from "../../src/workers/files/service";
import { SEALED_COLUMNS } from "../../src/lib/seal-contexts";
import { NOT_BACKED_UP } from "../../src/db/tenant/backup-tables";

interface BackupView {
  id: string;
  tenant: string;
  status: "running" | "done" | "failed";
  trigger: "manual" | "scheduled";
  schemaVersion: number | null;
  parts: number;
  rows: number;
  bytes: number;
  error: string | null;
}
interface RestoreView {
  id: string;
  backupId: string;
  intoSlug: string;
  status: "running" | "done" | "failed";
  rows: number;
  objects: number;
  error: string | null;
}

const admin = (method: string, path: string, json?: unknown) =>
  call(path, { method, admin: true, ...(json === undefined ? {} : { json }) });

/** Starts a backup and waits for it to finish. */
async function backedUp(slug: string): Promise<BackupView> {
  const res = await admin("POST", `/admin/v1/tenants/${slug}/backups`);
  expect(res.status, await res.clone().text()).toBe(202);
  const { id } = await res.json<BackupView>();
  return vi.waitFor(
    async () => {
      const b = await (await admin("GET", `/admin/v1/tenants/${slug}/backups/${id}`)).json<BackupView>();
      expect(b.status, b.error ?? "").not.toBe("running");
      return b;
    },
    { timeout: 45_000, interval: 300 },
  );
}

/** Starts a restore and waits for its outcome. */
async function restored(slug: string, backupId: string, intoSlug: string): Promise<RestoreView> {
  const res = await admin("POST", `/admin/v1/tenants/${slug}/restore`, { backupId, intoSlug });
  expect(res.status, await res.clone().text()).toBe(202);
  const { id } = await res.json<RestoreView>();
  return vi.waitFor(
    async () => {
      const r = await (await admin("GET", `/admin/v1/restores/${id}`)).json<RestoreView>();
      expect(r.status).not.toBe("running");
      return r;
    },
    { timeout: 60_000, interval: 300 },
  );
}

async function signIn(slug: string, u: { username: string; password: string }): Promise<{ tokens: Tokens }> {
  const res = await login(slug, u.username, u.password);
  expect(res.status, await res.clone().text()).toBe(200);
  return { tokens: await res.json<Tokens>() };
}

async function enableTotp(slug: string, u: { tokens: Tokens; password: string }): Promise<string> {
  const setup = await call("/v1/auth/mfa/totp/setup", { method: "POST", ...as(slug, u) });
  const { secret } = await setup.json<{ secret: string }>();
  const enable = await call("/v1/auth/mfa/totp/enable", {
    method: "POST",
    ...as(slug, u),
    json: { password: u.password, code: await previousStepCode(secret) },
  });
  expect(enable.status, await enable.clone().text()).toBe(200);
  return secret;
}

const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47];

describe("tenant backup and restore", () => {
  it("round trip: users sign in with their passwords and TOTP, see friends, history, balances, files, search", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const slug = tenant.slug;
    const [a, b, c] = await Promise.all([registerUser(slug), registerUser(slug), registerUser(slug)]);
    await befriend(slug, a, b);
    expect((await call(`/v1/blocks/${c.userId}`, { method: "PUT", ...as(slug, a) })).status).toBeLessThan(300);
    const group = await (
      await call("/v1/conversations", {
        method: "POST",
        ...as(slug, a),
        json: { type: "group", name: "kept", memberIds: [b.userId] },
      })
    ).json<{ id: string }>();
    for (const [u, text] of [
      [a, "first"],
      [b, "second"],
      [a, "third"],
    ] as const) {
      const sent = await call(`/v1/conversations/${group.id}/messages`, {
        method: "POST",
        ...as(slug, u),
        json: { clientId: crypto.randomUUID(), kind: "text", body: { text } },
      });
      expect(sent.status, await sent.clone().text()).toBe(201);
    }
    const post = await create(slug, a, { title: "Kept", body: "restorable zephyrwords in a post" });
    await credit(slug, a.userId, 1234n);
    const fileId = await upload(slug, a);
    const secret = await enableTotp(slug, b);
    const history = async (s: string, u: { tokens: Tokens }) =>
      (await (await call(`/v1/conversations/${group.id}/messages`, as(s, u))).json<{ items: unknown[] }>()).items;
    const before = await history(slug, a);

    const backup = await backedUp(slug);
    expect(backup).toMatchObject({ status: "done", trigger: "manual", tenant: slug, error: null });
    expect(backup.rows).toBeGreaterThan(10);
    expect(backup.schemaVersion).toBeGreaterThan(30);
    // No private signing key leaves the database.
    const listed = await env.BACKUPS.list({ prefix: `backups/${tenant.id}/${backup.id}/` });
    expect(listed.objects.map((o) => o.key).some((k) => k.includes("signing_keys"))).toBe(false);
    expect(listed.objects.map((o) => o.key)).toContain(`backups/${tenant.id}/${backup.id}/manifest.json`);

    const into = uniqueSlug("restored");
    const r = await restored(slug, backup.id, into);
    expect(r, r.error ?? "").toMatchObject({ status: "done", intoSlug: into, backupId: backup.id, error: null });
    expect(r.objects).toBeGreaterThanOrEqual(5); // four hubs and the conversation
    const view = await (await admin("GET", `/admin/v1/tenants/${into}`)).json<{ id: string; status: string }>();
    expect(view.status).toBe("active");
    expect(view.id).not.toBe(tenant.id);

    // Passwords are kept; sessions are not (tokens of the old tenant do not work here).
    await expectProblem(await call("/v1/me", as(into, a)), 401, "invalid_token");
    const a2 = await signIn(into, a);
    expect((await login(into, owner.email, owner.password)).status).toBe(200);
    const friends = await (await call("/v1/friends", as(into, a2))).json<{ items: { user: { id: string } }[] }>();
    expect(friends.items.map((f) => f.user.id)).toEqual([b.userId]);
    const blocks = await (await call("/v1/blocks", as(into, a2))).json<{ items: { user: { id: string } }[] }>();
    expect(blocks.items.map((x) => x.user.id)).toEqual([c.userId]);
    expect(await history(into, a2)).toEqual(before);
    expect(await balance(into, a2)).toBe(1234);
    // A new message continues the log's sequence.
    const next = await call(`/v1/conversations/${group.id}/messages`, {
      method: "POST",
      ...as(into, a2),
      json: { clientId: crypto.randomUUID(), kind: "text", body: { text: "fourth" } },
    });
    expect(await next.json()).toMatchObject({ seq: 4 });

    // The file's bytes were copied under the new tenant's key.
    const meta = await (await call(`/v1/files/${fileId}`, as(into, a2))).json<{ url: string }>();
    const bytes = new Uint8Array(await (await exports.default.fetch(new Request(meta.url))).arrayBuffer());
    expect([...bytes.slice(0, 4)]).toEqual(PNG_HEAD);
    expect(await env.FILES.head(r2KeyOf(view.id, fileId))).not.toBeNull();

    // Search indexes were rebuilt; the user directory came along.
    const hits = await (await call("/v1/search?q=zephyrwords", as(into, a2))).json<{ items: { id: string }[] }>();
    expect(hits.items.map((h) => h.id)).toEqual([post.id]);
    const users = await (await call(`/v1/users?q=${b.username}`, as(into, a2))).json<{ items: { id: string }[] }>();
    expect(users.items.map((u) => u.id)).toContain(b.userId);

    // A TOTP secret was re-sealed for the new tenant: b's second factor still works.
    const pending = await (await login(into, b.username, b.password)).json<{ mfaToken?: string }>();
    const verified = await call("/v1/auth/mfa/verify", {
      method: "POST",
      tenant: into,
      json: { mfaToken: pending.mfaToken, code: await code(secret) },
    });
    expect(verified.status, await verified.clone().text()).toBe(200);

    // The source tenant is untouched.
    expect((await call("/v1/me", as(slug, a))).status).toBe(200);
    expect((await history(slug, a)).length).toBe(3);
  });

  it("refuses what it must: unknown and foreign backups, taken slugs, bad bodies, no admin token", async () => {
    const one = await createTenant();
    const two = await createTenant();
    await registerUser(one.slug);
    const b1 = await backedUp(one.slug);
    const b2 = await backedUp(two.slug);
    const restore = (slug: string, body: unknown) => admin("POST", `/admin/v1/tenants/${slug}/restore`, body);

    await expectProblem(await restore(one.slug, { backupId: "nope", intoSlug: uniqueSlug() }), 404, "backup_not_found");
    // Another tenant's backup is not found through this tenant.
    await expectProblem(await restore(one.slug, { backupId: b2.id, intoSlug: uniqueSlug() }), 404, "backup_not_found");
    await expectProblem(await admin("GET", `/admin/v1/tenants/${one.slug}/backups/${b2.id}`), 404, "backup_not_found");
    await expectProblem(await restore(one.slug, { backupId: b1.id, intoSlug: two.slug }), 409, "tenant_exists");
    await expectProblem(await restore(one.slug, { backupId: b1.id, intoSlug: "Bad Slug" }), 400, "validation_failed");
    await expectProblem(await restore(one.slug, { backupId: b1.id, intoSlug: "admin" }), 400, "validation_failed");
    await expectProblem(
      await restore(one.slug, { backupId: b1.id, intoSlug: uniqueSlug(), extra: 1 }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await restore(one.slug, { backupId: `${b1.id}\u0000`, intoSlug: uniqueSlug() }),
      400,
      "invalid_body",
    );
    await expectProblem(
      await restore("no-such-tenant", { backupId: b1.id, intoSlug: uniqueSlug() }),
      404,
      "tenant_not_found",
    );
    const anon = await call(`/admin/v1/tenants/${one.slug}/backups`, { method: "POST" });
    expect(anon.status).toBe(401);
    const forged = await call(`/admin/v1/tenants/${one.slug}/backups`, {
      method: "POST",
      headers: bearer(`${env.ADMIN_TOKEN}x`),
    });
    expect(forged.status).toBe(401);
    await expectProblem(await admin("GET", "/admin/v1/restores/nope"), 404, "restore_not_found");

    // Two backups started at once: one runs, the other is refused.
    const [x, y] = await Promise.all([
      admin("POST", `/admin/v1/tenants/${one.slug}/backups`),
      admin("POST", `/admin/v1/tenants/${one.slug}/backups`),
    ]);
    expect([x.status, y.status].sort()).toEqual([202, 409]);
    const running = await (x.status === 202 ? x : y).json<BackupView>();
    await expectProblem(
      await restore(one.slug, { backupId: running.id, intoSlug: uniqueSlug() }),
      409,
      "backup_not_ready",
    );
    await vi.waitFor(
      async () =>
        expect(
          (await (await admin("GET", `/admin/v1/tenants/${one.slug}/backups/${running.id}`)).json<BackupView>()).status,
        ).toBe("done"),
      { timeout: 45_000, interval: 300 },
    );

    // Two restores racing into one slug: the slug is reserved once, the other is refused.
    const racing = uniqueSlug("race");
    const both = await Promise.all([
      restore(one.slug, { backupId: b1.id, intoSlug: racing }),
      restore(one.slug, { backupId: b1.id, intoSlug: racing }),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual([202, 409]);
    await expectProblem(both.find((r) => r.status === 409)!, 409, "tenant_exists");

    // The list pages newest first.
    const page = await (await admin("GET", `/admin/v1/tenants/${one.slug}/backups?limit=1`)).json<{
      items: BackupView[];
      nextCursor: string | null;
    }>();
    expect(page.items.map((i) => i.id)).toEqual([running.id]);
    const rest = await (
      await admin("GET", `/admin/v1/tenants/${one.slug}/backups?limit=5&cursor=${encodeURIComponent(page.nextCursor!)}`)
    ).json<{ items: BackupView[] }>();
    expect(rest.items.map((i) => i.id)).toEqual([b1.id]);

    // Deleting removes the archive and the record.
    expect((await admin("DELETE", `/admin/v1/tenants/${one.slug}/backups/${b1.id}`)).status).toBe(204);
    await expectProblem(await admin("GET", `/admin/v1/tenants/${one.slug}/backups/${b1.id}`), 404, "backup_not_found");
    expect((await env.BACKUPS.list({ prefix: `backups/${one.id}/${b1.id}/` })).objects).toEqual([]);
  });

  it("a tampered part fails the restore, frees the slug, and an unknown manifest version is refused up front", async () => {
    const { tenant } = await tenantWithOwner();
    await registerUser(tenant.slug);
    const backup = await backedUp(tenant.slug);
    const prefix = `backups/${tenant.id}/${backup.id}`;
    const usersPart = `${prefix}/db/users.0.jsonl`;
    const original = await (await env.BACKUPS.get(usersPart))!.text();
    await env.BACKUPS.put(usersPart, original.replace(/"active"/, '"suspended"'));
    const into = uniqueSlug("tampered");
    const r = await restored(tenant.slug, backup.id, into);
    expect(r.status).toBe("failed");
    expect(r.error).toContain("checksum");
    await expectProblem(await admin("GET", `/admin/v1/tenants/${into}`), 404, "tenant_not_found");
    await createTenant({ slug: into }); // the slug is free again

    await env.BACKUPS.put(usersPart, original);
    const manifest = await (await env.BACKUPS.get(`${prefix}/manifest.json`))!.json<Record<string, unknown>>();
    await env.BACKUPS.put(`${prefix}/manifest.json`, JSON.stringify({ ...manifest, version: 99 }));
    await expectProblem(
      await admin("POST", `/admin/v1/tenants/${tenant.slug}/restore`, { backupId: backup.id, intoSlug: uniqueSlug() }),
      422,
      "backup_corrupt",
    );
  });

  it("the daily schedule starts one backup at the configured hour and retention keeps the newest finished one", async () => {
    const t = await createTenant({ config: { backup: { hourUtc: 4, retentionDays: 2 } } });
    const s = await tenantScopeOf(t.slug);
    const day0 = Date.UTC(2031, 0, 10, 4, 0);
    const list = async () =>
      (await (await admin("GET", `/admin/v1/tenants/${t.slug}/backups?limit=10`)).json<{ items: BackupView[] }>())
        .items;
    const settled = () =>
      vi.waitFor(async () => expect((await list()).every((b) => b.status === "done")).toBe(true), {
        timeout: 45_000,
        interval: 300,
      });

    expect(await backupSweep(s, day0 - 3_600_000)).toEqual({ backupsStarted: 0, backupsExpired: 0 }); // another hour
    expect(await backupSweep(s, day0 + 60_000)).toEqual({}); // not on the hour
    expect((await backupSweep(s, day0)).backupsStarted).toBe(1);
    await settled();
    expect((await backupSweep(s, day0 + 3_600_000 * 0)).backupsStarted).toBe(0); // once a day
    const day1 = day0 + 86_400_000;
    expect((await backupSweep(s, day1)).backupsStarted).toBe(1);
    await settled();
    const both = await list();
    expect(both.map((b) => b.trigger)).toEqual(["scheduled", "scheduled"]);
    // Ten days on (not the backup hour): both are past retention; the newest finished one stays.
    const later = await backupSweep(s, day0 + 10 * 86_400_000 + 3_600_000);
    expect(later.backupsExpired).toBe(1);
    expect((await list()).map((b) => b.id)).toEqual([both[0]!.id]);
    // Switched off: nothing starts at the hour.
    await admin("PATCH", `/admin/v1/tenants/${t.slug}`, { config: { backup: { daily: false } } });
    expect((await backupSweep(await tenantScopeOf(t.slug), day0 + 20 * 86_400_000)).backupsStarted).toBe(0);
  });

  it("knows every sealed column of the tenant schema, so a restore re-seals them all", async () => {
    const t = await createTenant();
    const { location } = await tenantDbOf(t.slug);
    const { tenantClient } = await import("../../src/db/tenant-db");
    const client = tenantClient(location);
    const tables = (await client.execute("SELECT name FROM sqlite_master WHERE type = 'table'")).rows.map((r) =>
      String(r.name),
    );
    const sealed: string[] = [];
    for (const table of tables) {
      const cols = (await client.execute(`PRAGMA table_info("${table}")`)).rows.map((r) => String(r.name));
      for (const c of cols) if (/sealed/.test(c) && !NOT_BACKED_UP.has(table)) sealed.push(`${table}.${c}`);
    }
    expect(sealed.sort()).toEqual(SEALED_COLUMNS.map((s) => `${s.table}.${s.column}`).sort());
  });
});
