import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";
import { outboxInsertIf } from "./outbox";

/**
 * Account deletion and erasure in the tenant DB (docs/privacy.md). A deletion is scheduled on the
 * users row; the erasure first claims the row (status `deleted`, identifiers and secrets gone, the
 * `user.deleted` event) and then removes the rest in idempotent steps, so a later sweep can
 * finish an erasure that failed part way. Once the row is `deleted` no cancellation can win:
 * cancelling needs it `active`.
 */

/**
 * Schedules the account's erasure at `dueAt` (an earlier pending time stays). False when the
 * account is already deleted. (A suspended account can be scheduled: only an admin can, since
 * its owner cannot sign in.)
 */
export async function scheduleDeletion(db: TenantDb, userId: string, dueAt: number, now: number): Promise<boolean> {
  const res = await db.run(sql`UPDATE users SET deletion_due_at = min(coalesce(deletion_due_at, ${dueAt}), ${dueAt}),
    updated_at = ${now} WHERE id = ${userId} AND status != 'deleted' AND erased_at IS NULL`);
  return res.rowsAffected === 1;
}

/** Cancels a pending deletion: false when none was pending (or the erasure has begun). */
export async function cancelDeletion(db: TenantDb, userId: string, now: number): Promise<boolean> {
  const res = await db.run(sql`UPDATE users SET deletion_due_at = NULL, updated_at = ${now}
    WHERE id = ${userId} AND status = 'active' AND deletion_due_at IS NOT NULL AND erased_at IS NULL`);
  return res.rowsAffected === 1;
}

/** Users whose erasure is due and not finished (the grace ended, or an erasure failed part way). */
export async function dueErasures(db: TenantDb, now: number, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`SELECT id FROM users
    WHERE deletion_due_at IS NOT NULL AND deletion_due_at <= ${now} AND erased_at IS NULL
    ORDER BY deletion_due_at LIMIT ${limit}`);
  return rows.map((r) => r.id);
}

/**
 * Claims a due erasure: the row keeps its id (never reused; ledger entries and others' rows still
 * name it) and loses everything personal, its roles go and `user.deleted` is recorded, in one
 * transaction. True when the erasure is (now, or since an earlier run) under way; false when it
 * is not due (cancelled, never scheduled) or already finished.
 */
export async function claimErasure(db: TenantDb, userId: string, now: number): Promise<boolean> {
  const deleted = sql`EXISTS (SELECT 1 FROM users WHERE id = ${userId} AND status = 'deleted'
    AND deletion_due_at IS NOT NULL AND erased_at IS NULL)`;
  await db.batch([
    db.run(sql`UPDATE users SET email = NULL, username = NULL, username_skeleton = NULL, phone = NULL,
      password_hash = '!', totp_secret_sealed = NULL, mfa_enabled = 0, totp_last_step = 0, email_verified_at = NULL,
      status = 'deleted', deleted_at = coalesce(deleted_at, ${now}), updated_at = ${now}
      WHERE id = ${userId} AND status != 'deleted' AND deletion_due_at IS NOT NULL AND deletion_due_at <= ${now}
      AND erased_at IS NULL`),
    outboxInsertIf(db, { type: "user.deleted", subject: userId, data: { userId } }, sql`changes() = 1`, now),
    db.run(sql`DELETE FROM user_roles WHERE user_id = ${userId} AND ${deleted}`),
  ]);
  const [row] = await db.all<{ n: number }>(sql`SELECT ${deleted} AS n`);
  return row?.n === 1;
}

/**
 * Removes or blanks the user's rows that need no other object's help, in one transaction. Others'
 * rows that only name the user (their notifications, replies) stay: the name resolves to a deleted
 * user. Statistics keep their counts: daily activity rows get a pseudonym instead of the id.
 */
export async function eraseUserRows(db: TenantDb, userId: string, opts: { pseudonym: string }): Promise<void> {
  const about = (path: string) => sql`json_extract(payload, ${path}) = ${userId}`;
  await db.batch([
    db.run(sql`DELETE FROM recovery_codes WHERE user_id = ${userId}`),
    db.run(sql`DELETE FROM user_settings WHERE user_id = ${userId}`),
    db.run(sql`UPDATE profiles SET nickname = '', avatar_file_id = NULL, bio = '', locale = '', gender = '',
      birthday = NULL, region = '' WHERE user_id = ${userId}`),
    db.run(sql`DELETE FROM user_search WHERE user_id = ${userId}`),
    db.run(sql`DELETE FROM follows WHERE follower_id = ${userId} OR followee_id = ${userId}`),
    db.run(sql`DELETE FROM blocks WHERE blocker_id = ${userId} OR blocked_id = ${userId}`),
    db.run(sql`DELETE FROM notification_prefs WHERE user_id = ${userId}`),
    db.run(sql`DELETE FROM email_challenges WHERE user_id = ${userId}`),
    db.run(sql`DELETE FROM email_digest_items WHERE user_id = ${userId}`),
    db.run(sql`DELETE FROM email_digest_sent WHERE user_id = ${userId}`),
    // Not user.deleted itself: tenants must learn of the deletion (a re-run must not drop its retry).
    db.run(sql`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries
      WHERE status = 'pending' AND event_type != 'user.deleted'
      AND (${about("$.data.subject")} OR ${about("$.data.data.userId")}))`),
    db.run(sql`DELETE FROM webhook_deliveries WHERE status = 'pending' AND event_type != 'user.deleted'
      AND (${about("$.data.subject")} OR ${about("$.data.data.userId")})`),
    db.run(sql`DELETE FROM rec_interactions WHERE user_id = ${userId}`),
    db.run(sql`DELETE FROM rec_friend_edges WHERE user_id = ${userId} OR friend_id = ${userId}`),
    db.run(sql`DELETE FROM post_viewers WHERE user_id = ${userId}`),
    db.run(sql`DELETE FROM ai_chat_audit WHERE message_id IN (SELECT m.id FROM ai_chat_messages m
      JOIN ai_chat_sessions s ON s.id = m.session_id WHERE s.user_id = ${userId})`),
    db.run(
      sql`DELETE FROM ai_chat_messages WHERE session_id IN (SELECT id FROM ai_chat_sessions WHERE user_id = ${userId})`,
    ),
    db.run(sql`DELETE FROM ai_chat_sessions WHERE user_id = ${userId}`),
    // What moderation kept of the user's words: the excerpt and appeal of their items, their reports' details.
    db.run(sql`UPDATE moderation_items SET excerpt = '', appeal_text = NULL WHERE author_id = ${userId}`),
    db.run(sql`UPDATE reports SET detail = '' WHERE reporter_id = ${userId}`),
    db.run(sql`UPDATE active_users SET user_id = ${opts.pseudonym} WHERE user_id = ${userId}`),
  ]);
}

/** A page of the user's notifications deleted; how many. */
export async function eraseNotificationsPage(db: TenantDb, userId: string, limit: number): Promise<number> {
  const res = await db.run(sql`DELETE FROM notifications WHERE id IN
    (SELECT id FROM notifications WHERE user_id = ${userId} LIMIT ${limit})`);
  return res.rowsAffected;
}

/** A page of the archive copies of the user's messages blanked (body and search text); how many. */
export async function blankArchivePage(db: TenantDb, userId: string, limit: number): Promise<number> {
  const res = await db.run(sql`UPDATE archived_messages SET body = NULL, text = NULL WHERE rowid IN
    (SELECT rowid FROM archived_messages WHERE sender_id = ${userId} AND (body IS NOT NULL OR text IS NOT NULL)
     LIMIT ${limit})`);
  return res.rowsAffected;
}

/** An erasure that failed: tried again after `until`, so it does not hold the sweep's places. */
export async function postponeErasure(db: TenantDb, userId: string, until: number): Promise<void> {
  await db.run(sql`UPDATE users SET deletion_due_at = ${until} WHERE id = ${userId} AND erased_at IS NULL
    AND deletion_due_at IS NOT NULL`);
}

/** Active owners who are not leaving (no deletion pending): the last of them cannot be deleted. */
export async function stayingOwners(db: TenantDb): Promise<number> {
  const [row] = await db.all<{ n: number }>(sql`SELECT count(*) AS n FROM user_roles r JOIN users u ON u.id = r.user_id
    WHERE r.role_id = 'owner' AND u.status = 'active' AND u.deletion_due_at IS NULL`);
  return row?.n ?? 0;
}

/** Marks the erasure finished: the sweep stops picking the user. */
export async function finishErasure(db: TenantDb, userId: string, now: number): Promise<void> {
  await db.run(
    sql`UPDATE users SET erased_at = ${now} WHERE id = ${userId} AND status = 'deleted' AND erased_at IS NULL`,
  );
}

/** Whether a sign-in must stop at a pending deletion (the users row as read for the sign-in). */
export const deletionPending = (u: { status: string; deletionDueAt: number | null }) =>
  u.status === "active" && u.deletionDueAt !== null;
