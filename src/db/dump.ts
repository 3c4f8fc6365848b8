import type { Client, InValue, Transaction, Value } from "@libsql/client";

/**
 * Reading a whole SQLite database table by table and writing it back (backups,
 * docs/operations.md "Backup and restore"). Generic over the schema: what a table holds is read
 * from sqlite_master and table_info, so a new migration's tables are carried without a change here.
 */

/** A table to carry: its columns, and how it is paged (its primary key, or the rowid). */
export interface DumpTable {
  name: string;
  columns: string[];
  /** Primary key columns of a WITHOUT ROWID table; empty: paged by rowid. */
  key: string[];
}

type Reader = Pick<Transaction, "execute"> | Pick<Client, "execute">;

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Names SQLite, libSQL and the migrator keep for themselves, and FTS and vector index internals. */
const FTS_SHADOWS = ["_data", "_idx", "_content", "_docsize", "_config"];

/**
 * Every table worth carrying, in creation order: not SQLite's or libSQL's own, not the migration
 * ledger, not an index's shadow tables, and no FTS table that keeps no content of its own
 * (external-content and contentless indexes are rebuilt from their sources instead).
 */
export async function dumpableTables(db: Reader, skip: ReadonlySet<string>): Promise<DumpTable[]> {
  const rs = await db.execute(
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
  );
  const all = rs.rows.map((r) => ({ name: String(r.name), sql: String(r.sql ?? "") }));
  const virtual = all.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql)).map((t) => t.name);
  const shadows = new Set(virtual.flatMap((v) => FTS_SHADOWS.map((s) => v + s)));
  const out: DumpTable[] = [];
  for (const t of all) {
    if (skip.has(t.name) || shadows.has(t.name)) continue;
    if (t.name.startsWith("_canopy_") || t.name.startsWith("libsql_") || t.name.endsWith("_shadow")) continue;
    if (virtual.includes(t.name) && /\bcontent\s*=/i.test(t.sql)) continue;
    const info = await db.execute(`PRAGMA table_info(${ident(t.name)})`);
    const columns = info.rows.map((c) => String(c.name));
    const withoutRowid = /\)\s*(STRICT\s*,\s*)?WITHOUT\s+ROWID(\s*,\s*STRICT)?\s*$/i.test(t.sql);
    const key = withoutRowid
      ? info.rows
          .filter((c) => Number(c.pk) > 0)
          .sort((a, b) => Number(a.pk) - Number(b.pk))
          .map((c) => String(c.name))
      : [];
    out.push({ name: t.name, columns, key });
  }
  return out;
}

/** One page of a table in key order, after the key of the previous page's last row. */
export async function readPage(
  db: Reader,
  t: DumpTable,
  after: Value[] | null,
  limit: number,
): Promise<{ rows: Value[][]; last: Value[] | null }> {
  const keyCols = t.key.length > 0 ? t.key.map(ident) : ["rowid"];
  const select = [...keyCols.map((k, i) => `${k} AS "__k${i}"`), ...t.columns.map(ident)].join(", ");
  const tuple = keyCols.length === 1 ? keyCols[0]! : `(${keyCols.join(", ")})`;
  const marks = keyCols.length === 1 ? "?" : `(${keyCols.map(() => "?").join(", ")})`;
  const rs = await db.execute({
    sql: `SELECT ${select} FROM ${ident(t.name)}${after ? ` WHERE ${tuple} > ${marks}` : ""} ORDER BY ${keyCols.join(", ")} LIMIT ?`,
    args: [...(after ?? []), limit],
  });
  const n = keyCols.length;
  const rows = rs.rows.map((r) => Array.from({ length: t.columns.length }, (_, i) => r[n + i] as Value));
  const lastRow = rs.rows[rs.rows.length - 1];
  const last = lastRow ? Array.from({ length: n }, (_, i) => lastRow[i] as Value) : null;
  return { rows, last };
}

/**
 * Inserts rows into a table by column name, in one transaction whose foreign keys are checked at
 * its commit (so rows of a table that refer to each other may come in any order within it).
 */
export async function insertRows(db: Client, table: string, columns: string[], rows: InValue[][]): Promise<void> {
  if (rows.length === 0) return;
  const sql = `INSERT INTO ${ident(table)} (${columns.map(ident).join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`;
  await db.batch(["PRAGMA defer_foreign_keys = ON", ...rows.map((args) => ({ sql, args }))], "write");
}

/**
 * The tables in an order where every table comes after the tables its foreign keys name (a
 * restore writes parents first); tables in a cycle keep their given order at the end.
 */
export async function parentsFirst(db: Reader, tables: string[]): Promise<string[]> {
  const parents = new Map<string, Set<string>>();
  for (const t of tables) {
    const fks = await db.execute(`PRAGMA foreign_key_list(${ident(t)})`);
    parents.set(t, new Set(fks.rows.map((r) => String(r.table)).filter((p) => p !== t && tables.includes(p))));
  }
  const out: string[] = [];
  for (let progressed = true; progressed; ) {
    progressed = false;
    for (const t of tables) {
      if (out.includes(t) || ![...parents.get(t)!].every((p) => out.includes(p))) continue;
      out.push(t);
      progressed = true;
    }
  }
  return [...out, ...tables.filter((t) => !out.includes(t))];
}

/** Deletes every row of a table (what migrations seeded, before a restore writes the backup's). */
export async function clearTable(db: Client, table: string): Promise<void> {
  await db.execute(`DELETE FROM ${ident(table)}`);
}

export async function countRows(db: Reader, table: string): Promise<number> {
  const rs = await db.execute(`SELECT count(*) AS n FROM ${ident(table)}`);
  return Number(rs.rows[0]?.n ?? 0);
}

/** The columns a table has now (a restore into a newer schema keeps only these). */
export async function columnsOf(db: Reader, table: string): Promise<string[]> {
  const info = await db.execute(`PRAGMA table_info(${ident(table)})`);
  return info.rows.map((c) => String(c.name));
}
