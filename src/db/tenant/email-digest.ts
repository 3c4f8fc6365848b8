import { and, asc, eq, inArray, isNull, lte, min, or } from "drizzle-orm";
import { UserSettingsSchema, type EmailSettings } from "../../lib/user-settings";
import type { TenantDb } from "../client";
import { notifications, type NotificationRow } from "./notifications";
import { emailDigestItems, emailDigestSent, userSettings, users, type UserRow } from "./schema";

/** A user the email channel can reach, and what they opted into. */
export interface EmailRecipient {
  user: UserRow;
  /** The address (the account's own, never one an event named). */
  address: string;
  email: EmailSettings;
}

/**
 * The reachable users among `userIds` (active, with an address) and their email switches, in one
 * query for a whole batch: the consumer and the sweep read settings once per batch, not per row.
 * A user absent from the answer gets no mail.
 */
export async function emailRecipients(db: TenantDb, userIds: string[]): Promise<Map<string, EmailRecipient>> {
  if (!userIds.length) return new Map();
  const rows = await db
    .select({ user: users, settings: userSettings.value })
    .from(users)
    .leftJoin(userSettings, eq(userSettings.userId, users.id))
    .where(and(inArray(users.id, userIds), eq(users.status, "active")))
    .all();
  const out = new Map<string, EmailRecipient>();
  for (const { user, settings } of rows) {
    if (!user.email) continue;
    // Stored settings are ours, but a row written before a field existed still parses (defaults);
    // one that does not parse at all opts into nothing rather than failing the batch.
    const parsed = UserSettingsSchema.safeParse(settings ? JSON.parse(settings) : {});
    if (parsed.success) out.set(user.id, { user, address: user.email, email: parsed.data.email });
  }
  return out;
}

/** Puts notifications on their users' next digest (a row already waiting is kept as it is). */
export async function queueDigestItems(
  db: TenantDb,
  items: { userId: string; notificationId: string }[],
  now: number,
): Promise<void> {
  if (!items.length) return;
  await db
    .insert(emailDigestItems)
    .values(items.map((i) => ({ ...i, createdAt: now })))
    .onConflictDoNothing()
    .run();
}

/** A user with a digest due, and when their last one went out (null: never). */
export interface DueDigest {
  userId: string;
  lastSentAt: number | null;
}

/**
 * Users with items waiting whose last digest went out at or before `dueBefore` (or never),
 * those waiting longest first, at most `limit` of them.
 */
export async function dueDigests(db: TenantDb, now: number, dueBefore: number, limit: number): Promise<DueDigest[]> {
  const oldest = min(emailDigestItems.createdAt);
  return db
    .select({ userId: emailDigestItems.userId, lastSentAt: emailDigestSent.sentAt })
    .from(emailDigestItems)
    .leftJoin(emailDigestSent, eq(emailDigestSent.userId, emailDigestItems.userId))
    .where(
      and(
        lte(emailDigestItems.createdAt, now),
        or(isNull(emailDigestSent.sentAt), lte(emailDigestSent.sentAt, dueBefore)),
      ),
    )
    .groupBy(emailDigestItems.userId, emailDigestSent.sentAt)
    .orderBy(asc(oldest))
    .limit(limit)
    .all();
}

/**
 * A user's waiting items up to `now`, oldest first (at most `cap`; the rest wait for the next
 * digest), each with its notification as it is now: null when the user deleted it.
 */
export async function pendingDigestItems(
  db: TenantDb,
  userId: string,
  now: number,
  cap: number,
): Promise<{ notificationId: string; notification: NotificationRow | null }[]> {
  return db
    .select({ notificationId: emailDigestItems.notificationId, notification: notifications })
    .from(emailDigestItems)
    .leftJoin(
      notifications,
      and(eq(notifications.id, emailDigestItems.notificationId), eq(notifications.userId, emailDigestItems.userId)),
    )
    .where(and(eq(emailDigestItems.userId, userId), lte(emailDigestItems.createdAt, now)))
    .orderBy(asc(emailDigestItems.createdAt))
    .limit(cap)
    .all();
}

/**
 * Takes the user's digest slot for `now` if their last digest went out at or before `dueBefore`
 * (or never). Conditional in one statement, so two overlapping sweeps cannot both send.
 */
export async function claimDigest(db: TenantDb, userId: string, now: number, dueBefore: number): Promise<boolean> {
  const r = await db
    .insert(emailDigestSent)
    .values({ userId, sentAt: now })
    .onConflictDoUpdate({
      target: emailDigestSent.userId,
      set: { sentAt: now },
      setWhere: lte(emailDigestSent.sentAt, dueBefore),
    })
    .run();
  return r.rowsAffected > 0;
}

/** Gives back a slot whose mail did not go out, so the next sweep tries again. */
export async function releaseDigest(db: TenantDb, userId: string, now: number, previous: number | null) {
  const mine = and(eq(emailDigestSent.userId, userId), eq(emailDigestSent.sentAt, now));
  if (previous === null) await db.delete(emailDigestSent).where(mine).run();
  else await db.update(emailDigestSent).set({ sentAt: previous }).where(mine).run();
}

/** Forgets items once a digest listed them (or nothing was left to list). */
export async function dropDigestItems(db: TenantDb, userId: string, notificationIds: string[]): Promise<void> {
  if (!notificationIds.length) return;
  await db
    .delete(emailDigestItems)
    .where(and(eq(emailDigestItems.userId, userId), inArray(emailDigestItems.notificationId, notificationIds)))
    .run();
}
