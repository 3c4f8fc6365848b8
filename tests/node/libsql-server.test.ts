/**
 * The local libSQL server driven by the real `@libsql/client` (Node build with an http:// URL and
 * the web build), the way the Worker uses it.
 */
import { LibsqlError, type Client, type IntMode } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientBuilds,
  createNamespace,
  rejectionCode,
  startTestServer,
  type TestServer,
} from "./libsql-server.helpers.js";

let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await ts.stop();
});

describe.each(clientBuilds)("@libsql/client ($build build)", ({ build, create }) => {
  const ns = `client-${build}`;
  const clients: Client[] = [];
  const connect = (intMode: IntMode = "number"): Client => {
    const c = create({ url: ts.server.dbUrl(ns), authToken: ts.server.tokenFor(ns), intMode });
    clients.push(c);
    return c;
  };
  let db: Client;

  beforeAll(async () => {
    await createNamespace(ts.server, ns);
    db = connect();
    await db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, qty INTEGER)");
  });
  afterAll(() => {
    for (const c of clients) c.close();
  });

  it("executes with positional and named arguments", async () => {
    const pos = await db.execute({ sql: "SELECT ? AS a, ?2 AS b, ?1 AS c", args: ["x", 2.5] });
    expect(pos.columns).toEqual(["a", "b", "c"]);
    expect({ ...pos.rows[0] }).toEqual({ a: "x", b: 2.5, c: "x" });
    const named = await db.execute({ sql: "SELECT :a AS a, @b AS b, $c AS c", args: { a: 1, "@b": "two", $c: null } });
    expect({ ...named.rows[0] }).toEqual({ a: 1, b: "two", c: null });
  });

  it("reports rowsAffected, lastInsertRowid and column types", async () => {
    const ins = await db.execute({
      sql: "INSERT INTO items (name, qty) VALUES (?, ?), (?, ?)",
      args: ["a", 1, "b", 2],
    });
    expect(ins.rowsAffected).toBe(2);
    expect(ins.lastInsertRowid).toBe(2n);
    const upd = await db.execute("UPDATE items SET qty = qty + 1 WHERE name IN ('a', 'b')");
    expect(upd.rowsAffected).toBe(2);
    expect(upd.lastInsertRowid).toBeUndefined();
    const ddl = await db.execute("CREATE TABLE IF NOT EXISTS scratch (x)");
    expect(ddl.rowsAffected).toBe(0);
    const sel = await db.execute("SELECT id, name, qty FROM items WHERE name = 'a'");
    expect(sel.columnTypes).toEqual(["INTEGER", "TEXT", "INTEGER"]);
    expect(sel.rowsAffected).toBe(0);
    const ret = await db.execute("INSERT INTO items (name, qty) VALUES ('r', 0) RETURNING id, name");
    expect(ret.rows[0]?.name).toBe("r");
    expect(ret.rowsAffected).toBe(1);
  });

  it("follows schema changes for repeated statements", async () => {
    await db.execute("CREATE TABLE evolving (a)");
    await db.execute("INSERT INTO evolving VALUES (1)");
    expect((await db.execute("SELECT * FROM evolving")).columns).toEqual(["a"]);
    await db.execute("ALTER TABLE evolving ADD COLUMN b DEFAULT 2");
    const rs = await db.execute("SELECT * FROM evolving");
    expect(rs.columns).toEqual(["a", "b"]);
    expect({ ...rs.rows[0] }).toEqual({ a: 1, b: 2 });
    await db.execute("DROP TABLE evolving");
    expect(await rejectionCode(db.execute("SELECT * FROM evolving"))).toBe("SQL_INPUT_ERROR");
  });

  it("commits a write batch", async () => {
    const rs = await db.batch(
      [
        "CREATE TABLE batch_ok (v INTEGER)",
        { sql: "INSERT INTO batch_ok VALUES (?)", args: [1] },
        { sql: "INSERT INTO batch_ok VALUES (?)", args: [2] },
        "SELECT sum(v) AS s FROM batch_ok",
      ],
      "write",
    );
    expect(rs).toHaveLength(4);
    expect(rs[3]?.rows[0]?.s).toBe(3);
  });

  it("rolls back a failing batch and reports the base error code", async () => {
    await db.execute("CREATE TABLE batch_fail (v INTEGER UNIQUE)");
    const err = await db
      .batch(
        ["INSERT INTO batch_fail VALUES (1)", "INSERT INTO batch_fail VALUES (2)", "INSERT INTO batch_fail VALUES (1)"],
        "write",
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibsqlError);
    expect((err as LibsqlError).code).toBe("SQLITE_CONSTRAINT");
    expect((await db.execute("SELECT count(*) AS n FROM batch_fail")).rows[0]?.n).toBe(0);
  });

  it("commits and rolls back interactive transactions", async () => {
    await db.execute("CREATE TABLE tx (v TEXT)");
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO tx VALUES ('committed')");
    expect((await tx.execute("SELECT count(*) AS n FROM tx")).rows[0]?.n).toBe(1);
    // Another client queues behind the open transaction and sees only committed data.
    const other = connect();
    const otherRead = other.execute("SELECT count(*) AS n FROM tx");
    await tx.commit();
    expect((await otherRead).rows[0]?.n).toBe(1);

    const tx2 = await db.transaction("write");
    await tx2.batch(["INSERT INTO tx VALUES ('gone')", "INSERT INTO tx VALUES ('gone too')"]);
    await tx2.rollback();
    expect((await db.execute("SELECT v FROM tx")).rows.map((r) => r.v)).toEqual(["committed"]);
  });

  it("keeps 64-bit integers exact in bigint and string int modes", async () => {
    const values = [9223372036854775807n, -9223372036854775808n, 9007199254740993n, -42n];
    await db.execute("CREATE TABLE big_ints (v INTEGER)");
    await db.batch(
      values.map((v) => ({ sql: "INSERT INTO big_ints VALUES (?)", args: [v] })),
      "write",
    );
    const asBigint = await connect("bigint").execute("SELECT v, typeof(v) AS t FROM big_ints ORDER BY rowid");
    expect(asBigint.rows.map((r) => r.v)).toEqual(values);
    expect(asBigint.rows.every((r) => r.t === "integer")).toBe(true);
    const asString = await connect("string").execute("SELECT v FROM big_ints ORDER BY rowid");
    expect(asString.rows.map((r) => r.v)).toEqual(values.map(String));
    // JS numbers are floats in Hrana; bigints are integers.
    const kinds = await db.execute({ sql: "SELECT typeof(?) AS f, typeof(?) AS i", args: [3, 3n] });
    expect({ ...kinds.rows[0] }).toEqual({ f: "real", i: "integer" });
  });

  it("round-trips blobs", async () => {
    const bytes = new Uint8Array(256).map((_, i) => i ^ 0xab);
    await db.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)");
    await db.execute({
      sql: "INSERT INTO blobs (b) VALUES (?), (?), (?)",
      args: [bytes, bytes.buffer, new Uint8Array(0)],
    });
    const rs = await db.execute("SELECT b, typeof(b) AS t FROM blobs ORDER BY id");
    for (const [i, expected] of [bytes, bytes, new Uint8Array(0)].entries()) {
      const b = rs.rows[i]?.b;
      expect(b).toBeInstanceOf(ArrayBuffer);
      expect(new Uint8Array(b as ArrayBuffer)).toEqual(expected);
      expect(rs.rows[i]?.t).toBe("blob");
    }
  });

  it("returns a large result (20k rows)", async () => {
    await db.execute("CREATE TABLE big (i INTEGER, s TEXT)");
    await db.execute(
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) INSERT INTO big SELECT i, 'row ' || i FROM c",
    );
    const rs = await db.execute("SELECT i, s FROM big ORDER BY i");
    expect(rs.rows).toHaveLength(20000);
    expect({ ...rs.rows[19999] }).toEqual({ i: 20000, s: "row 20000" });
  });

  it("maps SQL errors to LibsqlError codes like sqld and stays up", async () => {
    expect(await rejectionCode(db.execute("SELEC 1"))).toBe("SQL_PARSE_ERROR");
    expect(await rejectionCode(db.execute("SELECT * FROM no_such_table"))).toBe("SQL_INPUT_ERROR");
    expect(await rejectionCode(db.execute("INSERT INTO items (name) VALUES ('a')"))).toBe("SQLITE_CONSTRAINT");
    expect(await rejectionCode(db.execute("INSERT INTO items (name) VALUES (NULL)"))).toBe("SQLITE_CONSTRAINT");
    expect(await rejectionCode(db.execute("SELECT 1; SELECT 2"))).toBe("SQL_MANY_STATEMENTS");
    expect(await rejectionCode(db.execute({ sql: "SELECT ?, ?", args: [1] }))).toBe("ARGS_INVALID");
    const err = await db.execute("INSERT INTO items (name) VALUES ('a')").catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/UNIQUE constraint failed: items\.name/);
    expect((await db.execute("SELECT 1 AS ok")).rows[0]?.ok).toBe(1);
  });

  it("runs executeMultiple and migrate", async () => {
    await db.executeMultiple("CREATE TABLE multi (a); INSERT INTO multi VALUES (1); INSERT INTO multi VALUES (2);");
    expect((await db.execute("SELECT count(*) AS n FROM multi")).rows[0]?.n).toBe(2);
    await db.migrate([
      "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
      "CREATE TABLE child (p INTEGER REFERENCES parent(id))",
    ]);
    // migrate() switches foreign keys off for its batch only; they are back on afterwards.
    expect(await rejectionCode(db.execute("INSERT INTO child VALUES (99)"))).toBe("SQLITE_CONSTRAINT");
  });

  it("serialises 20 concurrent writers without losing a row", async () => {
    await db.execute("CREATE TABLE concurrent (writer INTEGER, n INTEGER, PRIMARY KEY (writer, n))");
    const writers = Array.from({ length: 20 }, async (_, w) => {
      const c = connect();
      const tx = await c.transaction("write");
      for (let n = 0; n < 5; n++) await tx.execute({ sql: "INSERT INTO concurrent VALUES (?, ?)", args: [w, n] });
      await tx.commit();
    });
    await Promise.all(writers);
    const rs = await db.execute("SELECT count(*) AS n, count(DISTINCT writer) AS w FROM concurrent");
    expect({ ...rs.rows[0] }).toEqual({ n: 100, w: 20 });
  });
});

describe("namespaces and auth through the client", () => {
  beforeAll(async () => {
    await createNamespace(ts.server, "tenant-a");
    await createNamespace(ts.server, "tenant-b");
  });

  it("isolates namespaces", async () => {
    const a = clientBuilds[1].create({ url: ts.server.dbUrl("tenant-a"), authToken: ts.server.tokenFor("tenant-a") });
    const b = clientBuilds[1].create({ url: ts.server.dbUrl("tenant-b"), authToken: ts.server.tokenFor("tenant-b") });
    await a.execute("CREATE TABLE only_in_a (x)");
    expect(await rejectionCode(b.execute("SELECT * FROM only_in_a"))).toBe("SQL_INPUT_ERROR");
    const tables = await b.execute("SELECT name FROM sqlite_master WHERE name = 'only_in_a'");
    expect(tables.rows).toHaveLength(0);
    a.close();
    b.close();
  });

  it("rejects missing, wrong and foreign tokens", async () => {
    const url = ts.server.dbUrl("tenant-b");
    for (const authToken of [undefined, "wrong", ts.server.tokenFor("tenant-a")]) {
      const c = clientBuilds[0].create({ url, authToken });
      expect(await rejectionCode(c.execute("SELECT 1"))).toBe("UNAUTHORIZED");
      c.close();
    }
  });

  it("reports an unknown namespace", async () => {
    const c = clientBuilds[0].create({ url: ts.server.dbUrl("nope"), authToken: ts.server.tokenFor("nope") });
    expect(await rejectionCode(c.execute("SELECT 1"))).toBe("NAMESPACE_NOT_FOUND");
    c.close();
  });
});
