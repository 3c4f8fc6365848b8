import type { Client, ResultSet } from "@libsql/client/web";
import { describe, expect, it } from "vitest";
import { boundedText, libsqlClient } from "../../src/db/client";
import { leanClient, pipelineUrlOf } from "../../src/db/lean-client";
import { sharedTenantDb, tenantClient } from "../../src/db/tenant-db";
import { call, createTenant, tenantDbOf } from "./helpers";

/** The full client and the lean one over it, on a fresh tenant's database on the local server. */
async function clients(): Promise<{ full: Client; lean: Client }> {
  const t = await createTenant();
  const { location } = await tenantDbOf(t.slug);
  const full = tenantClient(location);
  const url = pipelineUrlOf(location.url);
  if (!url) throw new Error(`no pipeline URL for ${location.url}`);
  return { full, lean: leanClient(full, url, location.token, (to, init) => boundedText(to, init, "tenant")) };
}

/** What a caller can see of a result: columns, rows by index, by name, as keys, as JSON, as an array. */
function seen(r: ResultSet) {
  return {
    columns: r.columns,
    columnTypes: r.columnTypes,
    rowsAffected: r.rowsAffected,
    lastInsertRowid: r.lastInsertRowid,
    rows: r.rows.map((row) => ({
      length: row.length,
      byIndex: Array.from({ length: row.length }, (_, i) => row[i]),
      sliced: Array.prototype.slice.call(row),
      keys: Object.keys(row),
      byName: Object.fromEntries(Object.keys(row).map((k) => [k, row[k]])),
      json: JSON.stringify(row),
    })),
    json: JSON.stringify(r),
  };
}

async function failure(p: Promise<unknown>): Promise<{ name: string; code: unknown; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; code?: unknown; message: string };
    return { name: e.name, code: e.code, message: e.message };
  }
  throw new Error("expected a failure");
}

describe("the lean client answers as the full client does", () => {
  it("values of every type, duplicate and awkward column names, writes", async () => {
    const { full, lean } = await clients();
    await full.execute("CREATE TABLE lean_t (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB, n TEXT)");
    const insert = "INSERT INTO lean_t (i, f, s, b, n) VALUES (?, ?, ?, ?, ?)";
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const a = await full.execute({ sql: insert, args: [42, 1.5, 'zwölf \u0000 "q" ✓', bytes.buffer, null] });
    const b = await lean.execute({ sql: insert, args: [-7n, 2, "", new Uint8Array([9]), null] });
    expect(seen(b).rowsAffected).toBe(seen(a).rowsAffected);
    expect(b.lastInsertRowid).toBe(2n);
    for (const sql of [
      "SELECT * FROM lean_t ORDER BY id",
      'SELECT i, i, f AS length, s AS "0", b, n FROM lean_t ORDER BY id',
      "SELECT count(*) AS c FROM lean_t WHERE s = ?",
      "SELECT 1 WHERE 0",
    ]) {
      const args = sql.includes("?") ? [""] : [];
      expect(seen(await lean.execute({ sql, args })), sql).toEqual(seen(await full.execute({ sql, args })));
    }
    expect(seen(await lean.execute("UPDATE lean_t SET n = 'x'"))).toEqual(
      seen(await full.execute("UPDATE lean_t SET n = 'y'")),
    );
    const blob = (await lean.execute("SELECT b FROM lean_t ORDER BY id")).rows[0]!.b as ArrayBuffer;
    expect(new Uint8Array(blob)).toEqual(bytes);
  });

  it("errors: SQL, constraints, integers beyond 2^53, bad arguments", async () => {
    const { full, lean } = await clients();
    await full.execute("CREATE TABLE lean_u (k TEXT PRIMARY KEY)");
    await full.execute({ sql: "INSERT INTO lean_u VALUES (?)", args: ["a"] });
    for (const sql of ["SELEKT 1", "INSERT INTO lean_u VALUES ('a')", "SELECT 9007199254740993", "SELECT * FROM nope"])
      expect(await failure(lean.execute(sql)), sql).toEqual(await failure(full.execute(sql)));
    const inf = { sql: "SELECT ?", args: [Number.POSITIVE_INFINITY] };
    expect(await failure(lean.execute(inf))).toEqual(await failure(full.execute(inf)));
  });

  it("another tenant's token or a forged one is refused, as the full client reports it", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    const [locA, locB] = await Promise.all([tenantDbOf(a.slug), tenantDbOf(b.slug)]).then((x) =>
      x.map((t) => t.location),
    );
    const url = pipelineUrlOf(locA!.url)!;
    for (const token of [locB!.token, `${locA!.token.slice(0, -2)}xx`, ""]) {
      const full = libsqlClient(locA!.url, token);
      const lean = leanClient(full, url, token, (to, init) => boundedText(to, init, "tenant"));
      const refused = await failure(lean.execute("SELECT 1"));
      expect(refused).toEqual(await failure(full.execute("SELECT 1")));
      expect(refused.name).toBe("LibsqlError");
    }
  });

  it("named arguments, batches and transactions go to the full client", async () => {
    const { full, lean } = await clients();
    expect((await lean.execute({ sql: "SELECT :x AS x", args: { x: 5 } })).rows[0]!.x).toBe(5);
    const [r] = await lean.batch(["SELECT 2 AS two"], "read");
    expect(r!.rows[0]!.two).toBe(2);
    const tx = await lean.transaction("write");
    await tx.execute("CREATE TABLE lean_v (x)");
    await tx.rollback();
    expect((await full.execute("SELECT count(*) AS n FROM sqlite_master WHERE name = 'lean_v'")).rows[0]!.n).toBe(0);
  });

  it("the gateway's handle reads and writes through it", async () => {
    const t = await createTenant();
    const { location } = await tenantDbOf(t.slug);
    const db = sharedTenantDb(location);
    expect(sharedTenantDb(location)).toBe(db);
    expect((await call("/v1/tenant", { tenant: t.slug })).status).toBe(200);
    expect(await db.$client.execute("SELECT value FROM settings WHERE key = 'public'")).toMatchObject({
      columns: ["value"],
    });
  });
});

describe("pipelineUrlOf", () => {
  it("posts where the full client would, and leaves what it does not know to the full client", () => {
    expect(pipelineUrlOf("http://127.0.0.1:8080/dev/t-1/")).toBe("http://127.0.0.1:8080/dev/t-1/v2/pipeline");
    expect(pipelineUrlOf("libsql://db-org.turso.io")).toBe("https://db-org.turso.io/v2/pipeline");
    expect(pipelineUrlOf("libsql://localhost:8080?tls=0")).toBe("http://localhost:8080/v2/pipeline");
    expect(pipelineUrlOf("wss://db-org.turso.io")).toBeUndefined();
    expect(pipelineUrlOf("https://db.example?authToken=x")).toBeUndefined();
    expect(pipelineUrlOf("not a url")).toBeUndefined();
  });
});
