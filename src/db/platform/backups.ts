import { and, desc, eq, lt, sql } from "drizzle-orm";
import type { PlatformDb } from "../client";

/** The index of tenant backups and restores (the archives themselves are in R2). */
import { backups, restores, type BackupRow, type RestoreRow } from "./schema";

/**
 * Inserts a backup row unless one of the tenant's is `running` and started at or after
 * `staleBefore`: one statement, so of two concurrent starts only one gets its row.
 */
export async function insertBackupIfIdle(db: PlatformDb, row: BackupRow, staleBefore: number): Promise<boolean> {
  const res = await db.run(sql`INSERT INTO backups (id, tenant_id, status, trigger, schema_version, parts, rows, bytes,
    error, created_at, finished_at)
    SELECT ${row.id}, ${row.tenantId}, ${row.status}, ${row.trigger}, ${row.schemaVersion}, ${row.parts}, ${row.rows},
      ${row.bytes}, ${row.error}, ${row.createdAt}, ${row.finishedAt}
    WHERE NOT EXISTS (SELECT 1 FROM backups WHERE tenant_id = ${row.tenantId} AND status = 'running'
      AND created_at >= ${staleBefore})`);
  return res.rowsAffected === 1;
}

export async function findBackup(db: PlatformDb, id: string): Promise<BackupRow | undefined> {
  return db.select().from(backups).where(eq(backups.id, id)).get();
}

export async function updateBackup(
  db: PlatformDb,
  id: string,
  patch: Partial<Omit<BackupRow, "id" | "tenantId" | "createdAt">>,
): Promise<void> {
  await db.update(backups).set(patch).where(eq(backups.id, id)).run();
}

export async function deleteBackupRow(db: PlatformDb, id: string): Promise<void> {
  await db.delete(backups).where(eq(backups.id, id)).run();
}

/** A tenant's backups, newest first; `before` is the id of the last row of the previous page. */
export async function listBackups(
  db: PlatformDb,
  tenantId: string,
  opts: { limit: number; before?: string | undefined },
): Promise<BackupRow[]> {
  return db
    .select()
    .from(backups)
    .where(and(eq(backups.tenantId, tenantId), opts.before ? lt(backups.id, opts.before) : undefined))
    .orderBy(desc(backups.id))
    .limit(opts.limit)
    .all();
}

export async function insertRestore(db: PlatformDb, row: RestoreRow): Promise<void> {
  await db.insert(restores).values(row).run();
}

export async function findRestore(db: PlatformDb, id: string): Promise<RestoreRow | undefined> {
  return db.select().from(restores).where(eq(restores.id, id)).get();
}

export async function updateRestore(
  db: PlatformDb,
  id: string,
  patch: Partial<Pick<RestoreRow, "status" | "rows" | "objects" | "error" | "finishedAt">>,
): Promise<void> {
  await db.update(restores).set(patch).where(eq(restores.id, id)).run();
}

/** The tenant's newest backup (of any status), if any. */
export async function latestBackup(db: PlatformDb, tenantId: string): Promise<BackupRow | undefined> {
  return db.select().from(backups).where(eq(backups.tenantId, tenantId)).orderBy(desc(backups.id)).limit(1).get();
}

/** The tenant's newest finished backup, which retention never deletes. */
export async function latestDoneBackup(db: PlatformDb, tenantId: string): Promise<BackupRow | undefined> {
  return db
    .select()
    .from(backups)
    .where(and(eq(backups.tenantId, tenantId), eq(backups.status, "done")))
    .orderBy(desc(backups.id))
    .limit(1)
    .get();
}

/** Scheduled backups created before `before` (retention's candidates), oldest first. */
export async function scheduledBackupsBefore(
  db: PlatformDb,
  tenantId: string,
  before: number,
  limit: number,
): Promise<BackupRow[]> {
  return db
    .select()
    .from(backups)
    .where(and(eq(backups.tenantId, tenantId), eq(backups.trigger, "scheduled"), lt(backups.createdAt, before)))
    .orderBy(backups.id)
    .limit(limit)
    .all();
}
