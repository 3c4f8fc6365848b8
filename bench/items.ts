/**
 * The point-select workload shared by the local libSQL server (candidate) and the in-process
 * `libsql` floor: the same table, the same rows, the same statement, the same request body.
 */
export const ITEM_ROWS = 100_000;

export const ITEMS_SCHEMA =
  "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL, created_at INTEGER NOT NULL, body TEXT NOT NULL)";

/** Fills 1..rows in one statement (deterministic except `body`, 64 hex chars). */
export function itemsFill(rows: number): string {
  return (
    `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${rows}) ` +
    "INSERT INTO items (id, name, price, created_at, body) " +
    "SELECT i, 'item-' || i, (i * 7919) % 100000, 1700000000000 + i, hex(randomblob(32)) FROM seq"
  );
}

export const POINT_SELECT = "SELECT * FROM items WHERE id = ?";

/** A Hrana v2 pipeline: execute the point select for `id`, then close the stream. */
export function pointSelectBody(id: number): string {
  return JSON.stringify({
    baton: null,
    requests: [
      { type: "execute", stmt: { sql: POINT_SELECT, args: [{ type: "integer", value: String(id) }] } },
      { type: "close" },
    ],
  });
}

export function randomItemId(rows: number = ITEM_ROWS): number {
  return 1 + Math.floor(Math.random() * rows);
}
