import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { libsqlClient } from "../../src/db/client";
import { migrate, MigrationError, type Migration } from "../../src/db/migrator";
import { LocalProvisioner } from "../../src/db/provisioner/local";

const set: Migration[] = [
  {
    version: 1,
    name: "a",
    sql: "CREATE TABLE a (id INTEGER PRIMARY KEY);\nINSERT INTO a (id) VALUES (1);",
    checksum: "c1",
  },
  {
    version: 2,
    name: "b",
    sql: "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));",
    checksum: "c2",
  },
  { version: 3, name: "c", sql: "ALTER TABLE b ADD COLUMN note TEXT;", checksum: "c3" },
];

async function freshDb() {
  const p = new LocalProvisioner({ adminUrl: env.LIBSQL_ADMIN_URL, adminToken: env.LIBSQL_ADMIN_TOKEN });
  const db = await p.create(`m-${crypto.randomUUID().slice(0, 8)}`);
  return { client: () => libsqlClient(db.url, db.token), drop: () => p.destroy(db.name) };
}

describe("migration runner", () => {
  it("applies each migration once and reports the version; a re-run is a no-op", async () => {
    const db = await freshDb();
    expect(await migrate(db.client(), set)).toEqual({ version: 3, applied: [1, 2, 3] });
    expect(await migrate(db.client(), set)).toEqual({ version: 3, applied: [] });
    const rs = await db.client().execute("SELECT count(*) AS n FROM a");
    expect(rs.rows[0]!.n).toBe(1); // the seed INSERT ran once
    await db.drop();
  });

  it("is safe when several runners start at once", async () => {
    const db = await freshDb();
    const reports = await Promise.all([0, 1, 2, 3].map(() => migrate(db.client(), set)));
    const applied = reports.flatMap((r) => r.applied).sort();
    expect(applied).toEqual([1, 2, 3]);
    for (const r of reports) expect(r.version).toBe(3);
    const ledger = await db.client().execute("SELECT version FROM _canopy_migrations ORDER BY version");
    expect(ledger.rows.map((r) => r.version)).toEqual([1, 2, 3]);
    await db.drop();
  });

  it("stops when an applied migration was edited", async () => {
    const db = await freshDb();
    await migrate(db.client(), set.slice(0, 2));
    const edited = [set[0]!, { ...set[1]!, checksum: "changed" }, set[2]!];
    await expect(migrate(db.client(), edited)).rejects.toBeInstanceOf(MigrationError);
    await db.drop();
  });

  it("rolls back a failing migration whole and keeps the earlier ones", async () => {
    const db = await freshDb();
    const broken: Migration[] = [
      set[0]!,
      { version: 2, name: "bad", sql: "CREATE TABLE ok_part (x);\nCREATE TABLE a (dup);", checksum: "bad" },
    ];
    // The second statement's own error, from inside the migration's transaction.
    await expect(migrate(db.client(), broken)).rejects.toThrow(/table a already exists/);
    const tables = await db
      .client()
      .execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'ok_part'");
    expect(tables.rows).toHaveLength(0);
    expect(await migrate(db.client(), set)).toEqual({ version: 3, applied: [2, 3] });
    await db.drop();
  });
});

describe("local provisioner", () => {
  it("adopts an existing namespace on a repeated create (idempotent) and destroys idempotently", async () => {
    const p = new LocalProvisioner({ adminUrl: env.LIBSQL_ADMIN_URL, adminToken: env.LIBSQL_ADMIN_TOKEN });
    const name = `p-${crypto.randomUUID().slice(0, 8)}`;
    const a = await p.create(name);
    const b = await p.create(name);
    expect(b).toEqual(a);
    await p.destroy(name);
    await p.destroy(name);
    const wrong = new LocalProvisioner({ adminUrl: env.LIBSQL_ADMIN_URL, adminToken: "not-the-secret" });
    await expect(wrong.create(`q-${crypto.randomUUID().slice(0, 8)}`)).rejects.toThrow(/401/);
  });
});

describe("lazy tenant migration", () => {
  it("brings a tenant DB that is behind up to date on its first request", async () => {
    const { platformDb } = await import("../../src/db/client");
    const { insertTenant, recordTenantVersion, recordedTenantVersion } = await import("../../src/db/platform/tenants");
    const { tenantMigrations } = await import("../../src/db/migrations.gen");
    const { sealSecret } = await import("../../src/lib/crypto");
    const { newId } = await import("../../src/lib/ids");
    const { call } = await import("./helpers");
    // A tenant provisioned by an older release: only the first migration applied.
    const id = newId();
    const p = new LocalProvisioner({ adminUrl: env.LIBSQL_ADMIN_URL, adminToken: env.LIBSQL_ADMIN_TOKEN });
    const db = await p.create(`t-${id}`);
    await migrate(libsqlClient(db.url, db.token), tenantMigrations.slice(0, 1));
    const pdb = platformDb(env);
    const slug = `old-${id.slice(-6)}`;
    const now = Date.now();
    await insertTenant(pdb, {
      id,
      slug,
      name: "Old",
      status: "active",
      plan: "free",
      dbProvider: "local",
      dbName: db.name,
      dbUrl: db.url,
      dbTokenSealed: await sealSecret(env.DB_ENCRYPTION_KEY, db.token, id),
      config: "{}",
      createdAt: now,
      updatedAt: now,
      suspendedAt: null,
      deletedAt: null,
    });
    await recordTenantVersion(pdb, id, 1);
    const res = await call("/v1/auth/register", {
      method: "POST",
      tenant: slug,
      json: { username: "first-user", password: "correct horse staple 47" },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await recordedTenantVersion(pdb, id)).toBe(tenantMigrations.length);
  });
});
