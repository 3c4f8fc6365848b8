import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";

/**
 * Retention (docs/privacy.md, "Retention"): each call removes at most `limit` rows older than
 * `before` and answers how many, so a sweep works in bounded batches.
 */

export async function pruneNotifications(db: TenantDb, before: number, limit: number): Promise<number> {
  const res = await db.run(sql`DELETE FROM notifications WHERE id IN
    (SELECT id FROM notifications WHERE created_at < ${before} LIMIT ${limit})`);
  return res.rowsAffected;
}

export async function pruneArchivedMessages(db: TenantDb, before: number, limit: number): Promise<number> {
  const res = await db.run(sql`DELETE FROM archived_messages WHERE rowid IN
    (SELECT rowid FROM archived_messages WHERE sent_at < ${before} LIMIT ${limit})`);
  return res.rowsAffected;
}

/** Ready attachments older than `before` (avatars are kept), for the sweep to delete. */
export async function expiredFiles(
  db: TenantDb,
  before: number,
  limit: number,
): Promise<{ id: string; ownerId: string; r2Key: string; purpose: string; size: number }[]> {
  return db.all(sql`SELECT id, owner_id AS ownerId, r2_key AS r2Key, purpose, size FROM files
    WHERE status = 'ready' AND purpose != 'avatar' AND created_at < ${before} LIMIT ${limit}`);
}

/** A page of conversation ids after `after`, in id order (the message sweep walks them in turns). */
export async function conversationIdsAfter(db: TenantDb, after: string, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(
    sql`SELECT id FROM conversations WHERE id > ${after} ORDER BY id LIMIT ${limit}`,
  );
  return rows.map((r) => r.id);
}

/** Where the message sweep goes on next time (a settings row: the sweep has no other state). */
export async function sweepCursor(db: TenantDb, key: string): Promise<string> {
  const [row] = await db.all<{ value: string }>(sql`SELECT value FROM settings WHERE key = ${key}`);
  return row?.value ?? "";
}

export async function setSweepCursor(db: TenantDb, key: string, value: string, now: number): Promise<void> {
  await db.run(sql`INSERT INTO settings (key, value, updated_at) VALUES (${key}, ${value}, ${now})
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`);
}
