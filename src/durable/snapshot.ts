/**
 * Backups of a Durable Object's SQLite state (docs/operations.md, "Backup and restore"), shared
 * by the classes whose state outlives a session (UserHub, Conversation). A snapshot is read a page
 * at a time, table by table in rowid order, so an object of any size goes out in calls of bounded
 * size; each page is one synchronous read, consistent in itself. A restore writes the pages into
 * a fresh object of the new tenant, rewriting the tenant id the object keeps in its `meta` table.
 */

/** Where the next page of a snapshot starts. */
export interface SnapshotCursor {
  table: string;
  after: number;
}

export interface SnapshotPage {
  /** The object's storage schema version (its `_schema` ledger). */
  schemaVersion: number;
  table: string;
  columns: string[];
  rows: SqlStorageValue[][];
  /** null: this was the last page. */
  next: SnapshotCursor | null;
}

/** Rows per page: well under the RPC message limit for the largest rows objects hold. */
export const SNAPSHOT_PAGE_ROWS = 1000;

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

function schemaVersion(sql: SqlStorage): number {
  return sql.exec<{ version: number }>("SELECT version FROM _schema WHERE id = 1").toArray()[0]?.version ?? 0;
}

/** One page of the object's lasting tables (`tables`, in order), from `cursor` (null: the start). */
export function snapshotPage(
  sql: SqlStorage,
  tables: readonly string[],
  cursor: SnapshotCursor | null,
  limit = SNAPSHOT_PAGE_ROWS,
): SnapshotPage {
  const at = cursor ?? { table: tables[0]!, after: 0 };
  const index = tables.indexOf(at.table);
  if (index < 0) throw new Error(`not a snapshot table: ${at.table}`);
  const cur = sql.exec(
    `SELECT rowid AS "__rowid", * FROM ${ident(at.table)} WHERE rowid > ? ORDER BY rowid LIMIT ?`,
    at.after,
    limit,
  );
  const columns = cur.columnNames.slice(1);
  const raw = [...cur.raw()];
  const rows = raw.map((r) => r.slice(1));
  const last = raw[raw.length - 1]?.[0];
  const next =
    raw.length === limit && typeof last === "number"
      ? { table: at.table, after: last }
      : index + 1 < tables.length
        ? { table: tables[index + 1]!, after: 0 }
        : null;
  return { schemaVersion: schemaVersion(sql), table: at.table, columns, rows, next };
}

/**
 * Writes one page into this object. The first page of a restore empties the lasting tables
 * (a retried restore starts over). A snapshot from a newer storage schema than this code's is
 * refused; an older one fits, since storage migrations only add columns and tables.
 */
export function restorePage(
  storage: DurableObjectStorage,
  tables: readonly string[],
  page: SnapshotPage,
  tenantId: string,
  first: boolean,
): number {
  const sql = storage.sql;
  if (page.schemaVersion > schemaVersion(sql))
    throw new Error(`snapshot schema ${page.schemaVersion} is newer than this object's ${schemaVersion(sql)}`);
  if (!tables.includes(page.table)) throw new Error(`not a snapshot table: ${page.table}`);
  const tenantKey = page.table === "meta" ? page.columns.indexOf("key") : -1;
  const valueAt = page.columns.indexOf("value");
  const insert = `INSERT INTO ${ident(page.table)} (${page.columns.map(ident).join(", ")}) VALUES (${page.columns.map(() => "?").join(", ")})`;
  storage.transactionSync(() => {
    if (first) for (const t of tables) sql.exec(`DELETE FROM ${ident(t)}`);
    for (const row of page.rows) {
      const values = tenantKey >= 0 && row[tenantKey] === "tenantId" ? row.with(valueAt, tenantId) : row;
      sql.exec(insert, ...values);
    }
  });
  return page.rows.length;
}
