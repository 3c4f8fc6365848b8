import type { Client } from "@libsql/client";
import { log } from "../lib/log";
import { usernameSkeleton } from "../lib/username-skeleton";
import { migrate, type MigrationReport } from "./migrator";
import { tenantMigrations } from "./migrations.gen";

const BACKFILL_PAGE = 500;

/**
 * Brings a tenant database up to date: the SQL migrations, then the backfills SQL cannot do.
 * Backfills are idempotent and run on every call before the caller records the version, so a
 * runner that died in between is finished by the next one.
 */
export async function migrateTenant(client: Client, migrations = tenantMigrations): Promise<MigrationReport> {
  const report = await migrate(client, migrations);
  if (report.version >= 12) await backfillUsernameSkeletons(client);
  return report;
}

/**
 * Fills `username_skeleton` for rows written before migration 12. Two existing usernames with the
 * same skeleton both stay (the second keeps a NULL skeleton, logged): only new ones are refused.
 */
export async function backfillUsernameSkeletons(client: Client): Promise<number> {
  let filled = 0;
  let after = "";
  for (;;) {
    const rs = await client.execute({
      sql: "SELECT id, username FROM users WHERE username IS NOT NULL AND username_skeleton IS NULL AND id > ? ORDER BY id LIMIT ?",
      args: [after, BACKFILL_PAGE],
    });
    if (rs.rows.length === 0) return filled;
    for (const row of rs.rows) {
      const id = String(row.id);
      after = id;
      try {
        await client.execute({
          sql: "UPDATE users SET username_skeleton = ? WHERE id = ?",
          args: [usernameSkeleton(String(row.username)), id],
        });
        filled++;
      } catch (err) {
        log("warn", "username skeleton collides with an earlier user; left unset", { userId: id, error: String(err) });
      }
    }
  }
}

/** The migrations a tenant database has applied, oldest first (its `_canopy_migrations` ledger). */
export async function appliedMigrations(
  client: Client,
): Promise<{ version: number; name: string; appliedAt: number }[]> {
  const rs = await client.execute("SELECT version, name, applied_at FROM _canopy_migrations ORDER BY version");
  return rs.rows.map((r) => ({ version: Number(r.version), name: String(r.name), appliedAt: Number(r.applied_at) }));
}
