import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";
import { outboxInsertIf } from "./outbox";

/** A data export's row (migrations/tenant/0034). */
export interface ExportRow {
  id: string;
  userId: string;
  requestedBy: string | null;
  status: "pending" | "ready" | "failed";
  r2Key: string | null;
  size: number | null;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
  expiresAt: number | null;
}

const COLUMNS = sql`id, user_id AS userId, requested_by AS requestedBy, status, r2_key AS r2Key, size, error,
  created_at AS createdAt, finished_at AS finishedAt, expires_at AS expiresAt`;

/** When the user's own last export was asked for (admins' exports do not count). */
export async function lastSelfExportAt(db: TenantDb, userId: string): Promise<number | null> {
  const [row] = await db.all<{ at: number | null }>(
    sql`SELECT max(created_at) AS at FROM data_exports WHERE user_id = ${userId} AND requested_by IS NULL`,
  );
  return row?.at ?? null;
}

/**
 * Records a pending export and its `export.requested` event in one batch. For the user's own
 * request the insert happens only if none was made since `notBefore` (two racing requests make
 * one); for an admin's, only if none of theirs for this user is still pending.
 * True when inserted.
 */
export async function insertExport(
  db: TenantDb,
  e: { id: string; userId: string; requestedBy: string | null; now: number; notBefore: number },
): Promise<boolean> {
  // An admin has at most one export of a user being built at a time.
  const gate = e.requestedBy
    ? sql`NOT EXISTS (SELECT 1 FROM data_exports WHERE user_id = ${e.userId} AND requested_by = ${e.requestedBy}
        AND status = 'pending')`
    : sql`NOT EXISTS (SELECT 1 FROM data_exports WHERE user_id = ${e.userId} AND requested_by IS NULL
        AND created_at > ${e.notBefore})`;
  const [res] = await db.batch([
    db.run(sql`INSERT INTO data_exports (id, user_id, requested_by, status, created_at)
      SELECT ${e.id}, ${e.userId}, ${e.requestedBy}, 'pending', ${e.now} WHERE ${gate}`),
    outboxInsertIf(
      db,
      {
        type: "export.requested",
        subject: e.userId,
        data: { exportId: e.id, userId: e.userId, requestedBy: e.requestedBy },
      },
      sql`changes() = 1`,
      e.now,
    ),
  ]);
  return res.rowsAffected === 1;
}

export async function findExport(db: TenantDb, id: string): Promise<ExportRow | undefined> {
  const [row] = await db.all<ExportRow>(sql`SELECT ${COLUMNS} FROM data_exports WHERE id = ${id}`);
  return row;
}

/** Marks a pending export ready (its archive stored) or failed; false when it was not pending. */
export async function finishExport(
  db: TenantDb,
  id: string,
  done: { status: "ready"; r2Key: string; size: number; expiresAt: number } | { status: "failed"; error: string },
  now: number,
): Promise<boolean> {
  const res =
    done.status === "ready"
      ? await db.run(sql`UPDATE data_exports SET status = 'ready', r2_key = ${done.r2Key}, size = ${done.size},
          expires_at = ${done.expiresAt}, finished_at = ${now} WHERE id = ${id} AND status = 'pending'`)
      : await db.run(sql`UPDATE data_exports SET status = 'failed', error = ${done.error}, finished_at = ${now}
          WHERE id = ${id} AND status = 'pending'`);
  return res.rowsAffected === 1;
}

/** Archives past their expiry, for the sweep to delete from R2. */
export async function expiredExports(
  db: TenantDb,
  now: number,
  limit: number,
): Promise<{ id: string; r2Key: string }[]> {
  return db.all(sql`SELECT id, r2_key AS r2Key FROM data_exports WHERE r2_key IS NOT NULL AND expires_at <= ${now}
    LIMIT ${limit}`);
}

export async function forgetArchive(db: TenantDb, id: string): Promise<void> {
  await db.run(sql`UPDATE data_exports SET r2_key = NULL WHERE id = ${id}`);
}

/** Exports still pending after `before` (their build died past its retries): failed. */
export async function failStaleExports(db: TenantDb, before: number, now: number): Promise<number> {
  const res = await db.run(sql`UPDATE data_exports SET status = 'failed', error = 'The build did not finish.',
    finished_at = ${now} WHERE status = 'pending' AND created_at < ${before}`);
  return res.rowsAffected;
}

/** Every export of a user (an erasure deletes their archives and rows). */
export async function exportsOf(db: TenantDb, userId: string): Promise<{ id: string; r2Key: string | null }[]> {
  return db.all(sql`SELECT id, r2_key AS r2Key FROM data_exports WHERE user_id = ${userId}`);
}

export async function deleteExportsOf(db: TenantDb, userId: string): Promise<void> {
  await db.run(sql`DELETE FROM data_exports WHERE user_id = ${userId}`);
}
