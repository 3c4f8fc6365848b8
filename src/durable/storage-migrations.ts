/**
 * Versioned schema migrations for a Durable Object's SQLite storage. Run inside
 * blockConcurrencyWhile from the constructor, so no request sees a half-migrated schema.
 * The version lives in the object's own `_schema` table; migrations are append-only.
 */
export type DoMigration = (sql: SqlStorage) => void;

export function migrateStorage(
  storage: DurableObjectStorage,
  migrations: readonly DoMigration[],
  ledger = "_schema",
): number {
  const sql = storage.sql;
  if (!/^[a-z_]+$/.test(ledger)) throw new Error(`bad ledger table name ${ledger}`);
  sql.exec(`CREATE TABLE IF NOT EXISTS ${ledger} (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`);
  const row = sql.exec<{ version: number }>(`SELECT version FROM ${ledger} WHERE id = 1`).toArray()[0];
  let version = row?.version ?? 0;
  if (version > migrations.length) {
    throw new Error(`storage schema version ${version} is newer than this code (${migrations.length})`);
  }
  // Each step and its version bump commit together: transactionSync rolls both back on error.
  while (version < migrations.length) {
    const next = version + 1;
    storage.transactionSync(() => {
      migrations[next - 1]!(sql);
      sql.exec(
        `INSERT INTO ${ledger} (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
        next,
      );
    });
    version = next;
  }
  return version;
}
