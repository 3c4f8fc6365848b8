import type { Client } from "@libsql/client";

/** One migration, bundled from migrations/<set>/NNNN_name.sql by tools/bundle-migrations.ts. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  /** Highest version applied after the run. */
  version: number;
  /** Versions this run applied (empty when already up to date). */
  applied: number[];
}

export class MigrationError extends Error {
  override readonly name = "MigrationError";
}

const ledger = `CREATE TABLE IF NOT EXISTS _canopy_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at INTEGER NOT NULL
)`;

async function appliedChecksums(db: Pick<Client, "execute">): Promise<Map<number, string>> {
  const rs = await db.execute("SELECT version, checksum FROM _canopy_migrations ORDER BY version");
  return new Map(rs.rows.map((r) => [Number(r.version), String(r.checksum)]));
}

function checkChecksum(m: Migration, stored: string | undefined): void {
  if (stored !== undefined && stored !== m.checksum) {
    throw new MigrationError(`migration ${m.version}_${m.name} was edited after it was applied`);
  }
}

/**
 * Brings one database up to date. Each pending migration runs in its own write transaction
 * (BEGIN IMMEDIATE) that re-checks the ledger first, so two runners started at once serialise
 * on the database's write lock and the second one skips what the first applied. Applied
 * migrations are immutable: a changed checksum stops the run instead of silently diverging.
 */
export async function migrate(db: Client, migrations: readonly Migration[]): Promise<MigrationReport> {
  await db.execute(ledger);
  const before = await appliedChecksums(db);
  const applied: number[] = [];
  for (const m of migrations) {
    checkChecksum(m, before.get(m.version));
    if (before.has(m.version)) continue;
    const tx = await db.transaction("write");
    try {
      const rs = await tx.execute({
        sql: "SELECT checksum FROM _canopy_migrations WHERE version = ?",
        args: [m.version],
      });
      const stored = rs.rows[0]?.checksum;
      if (stored !== undefined) {
        checkChecksum(m, String(stored));
        await tx.rollback();
        continue;
      }
      await tx.executeMultiple(m.sql);
      await tx.execute({
        sql: "INSERT INTO _canopy_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
        args: [m.version, m.name, m.checksum, Date.now()],
      });
      await tx.commit();
      applied.push(m.version);
    } finally {
      tx.close();
    }
  }
  return { version: await currentVersion(db), applied };
}

/** The highest applied version, 0 for a fresh database. */
export async function currentVersion(db: Pick<Client, "execute">): Promise<number> {
  await db.execute(ledger);
  const rs = await db.execute("SELECT COALESCE(MAX(version), 0) AS v FROM _canopy_migrations");
  return Number(rs.rows[0]?.v ?? 0);
}
