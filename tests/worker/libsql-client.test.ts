import { env } from "cloudflare:test";
import { createClient, LibsqlError, type Client } from "@libsql/client/web";
import { describe, expect, it } from "vitest";
import { LocalProvisioner } from "../../src/db/provisioner/local";

/**
 * The local libSQL server driven from inside workerd by the web build of @libsql/client: the
 * exact client and runtime the Worker uses in production against Turso.
 */
async function freshDb(
  intMode: "number" | "bigint" | "string" = "number",
): Promise<{ client: () => Client; drop: () => Promise<void> }> {
  const p = new LocalProvisioner({ adminUrl: env.LIBSQL_ADMIN_URL, adminToken: env.LIBSQL_ADMIN_TOKEN });
  const db = await p.create(`w-${crypto.randomUUID().slice(0, 8)}`);
  return { client: () => createClient({ url: db.url, authToken: db.token, intMode }), drop: () => p.destroy(db.name) };
}

describe("@libsql/client (web) inside workerd against the local server", () => {
  it("executes with positional and named args, batches, and keeps 64-bit integers exact", async () => {
    const db = await freshDb("bigint");
    const c = db.client();
    await c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, big INTEGER, f REAL, s TEXT, b BLOB)");
    const big = 2n ** 62n + 12345n;
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    await c.execute({ sql: "INSERT INTO t (big, f, s, b) VALUES (?, ?, ?, ?)", args: [big, 1.5, "héllo 世界", bytes] });
    await c.execute({ sql: "INSERT INTO t (big, s) VALUES (:big, $s)", args: { big: -big, s: "named" } });
    const rs = await c.execute("SELECT big, f, s, b FROM t ORDER BY id");
    expect(rs.rows[0]!.big).toBe(big);
    expect(rs.rows[0]!.f).toBe(1.5);
    expect(rs.rows[0]!.s).toBe("héllo 世界");
    expect(new Uint8Array(rs.rows[0]!.b as ArrayBuffer)).toEqual(bytes);
    expect(rs.rows[1]!.big).toBe(-big);
    expect(rs.rows[1]!.b).toBeNull();
    const batch = await c.batch(
      ["INSERT INTO t (s) VALUES ('a')", "INSERT INTO t (s) VALUES ('b')", "SELECT count(*) AS n FROM t"],
      "write",
    );
    expect(batch[2]!.rows[0]!.n).toBe(4n);
    await db.drop();
  });

  it("commits and rolls back interactive transactions; a failing batch leaves nothing", async () => {
    const db = await freshDb();
    const c = db.client();
    await c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)");
    const tx = await c.transaction("write");
    await tx.execute("INSERT INTO t (v) VALUES ('kept')");
    await tx.commit();
    const tx2 = await c.transaction("write");
    await tx2.execute("INSERT INTO t (v) VALUES ('gone')");
    await tx2.rollback();
    const failed = await c
      .batch(["INSERT INTO t (v) VALUES ('x')", "INSERT INTO t (v) VALUES ('kept')"], "write")
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(LibsqlError);
    expect((failed as LibsqlError).code).toBe("SQLITE_CONSTRAINT");
    const rs = await c.execute("SELECT v FROM t ORDER BY v");
    expect(rs.rows.map((r) => r.v)).toEqual(["kept"]);
    await db.drop();
  });

  it("surfaces SQL errors as LibsqlError with sqld's codes, and the server stays up", async () => {
    const db = await freshDb();
    const c = db.client();
    await c.execute("CREATE TABLE t (v TEXT UNIQUE)");
    await c.execute("INSERT INTO t VALUES ('a')");
    const dup = await c.execute("INSERT INTO t VALUES ('a')").catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(LibsqlError);
    expect((dup as LibsqlError).code).toBe("SQLITE_CONSTRAINT");
    const syntax = await c.execute("SELEC nonsense").catch((e: unknown) => e);
    expect(syntax).toBeInstanceOf(LibsqlError);
    expect((await c.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
    await db.drop();
  });

  it("returns a large result whole", async () => {
    const db = await freshDb();
    const c = db.client();
    await c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)");
    await c.execute(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO t (s) SELECT printf('row-%05d', i) FROM n",
    );
    const rs = await c.execute("SELECT id, s FROM t ORDER BY id");
    expect(rs.rows).toHaveLength(20000);
    expect(rs.rows[19999]!.s).toBe("row-20000");
    await db.drop();
  });

  it("20 concurrent writers, each in its own transaction: no lost row", async () => {
    const db = await freshDb();
    await db.client().execute("CREATE TABLE t (writer INTEGER, n INTEGER)");
    await Promise.all(
      Array.from({ length: 20 }, async (_, w) => {
        const tx = await db.client().transaction("write");
        for (let i = 0; i < 5; i++) await tx.execute({ sql: "INSERT INTO t VALUES (?, ?)", args: [w, i] });
        await tx.commit();
      }),
    );
    const rs = await db.client().execute("SELECT count(*) AS n, count(DISTINCT writer) AS w FROM t");
    expect(rs.rows[0]).toMatchObject({ n: 100, w: 20 });
    await db.drop();
  });
});
