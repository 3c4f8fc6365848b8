import { and, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { TenantDb } from "../client";

export const notifications = sqliteTable("notifications", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  type: text("type").notNull(),
  groupKey: text("group_key"),
  actorId: text("actor_id"),
  title: text("title").notNull(),
  body: text("body").notNull(),
  data: text("data").notNull(),
  count: integer("count").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  readAt: integer("read_at"),
  deliveredVia: text("delivered_via"),
});
export type NotificationRow = typeof notifications.$inferSelect;

export const notificationPrefs = sqliteTable("notification_prefs", {
  userId: text("user_id").primaryKey(),
  muted: text("muted").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const announcements = sqliteTable("announcements", {
  id: text("id").primaryKey(),
  title: text("title").notNull(),
  body: text("body").notNull(),
  role: text("role"),
  createdBy: text("created_by"),
  createdAt: integer("created_at").notNull(),
});
export type AnnouncementRow = typeof announcements.$inferSelect;

export interface NewNotification {
  id: string;
  userId: string;
  type: string;
  /** Rows with the same key collapse while unread; null never collapses. */
  groupKey: string | null;
  actorId: string | null;
  title: string;
  body: string;
  data: Record<string, unknown>;
  now: number;
}

/**
 * Inserts a notification, or folds it into the user's unread one with the same group key
 * (count + 1, latest actor, body and data, moved to the top). Returns the row as it now is.
 */
export function upsertNotification(db: TenantDb, n: NewNotification) {
  return db.all<RawRow>(sql`
    INSERT INTO notifications (id, user_id, type, group_key, actor_id, title, body, data, count, created_at, updated_at)
    VALUES (${n.id}, ${n.userId}, ${n.type}, ${n.groupKey}, ${n.actorId}, ${n.title}, ${n.body}, ${JSON.stringify(n.data)}, 1, ${n.now}, ${n.now})
    ON CONFLICT (user_id, group_key) WHERE read_at IS NULL AND group_key IS NOT NULL DO UPDATE SET
      count = count + 1, actor_id = excluded.actor_id, title = excluded.title, body = excluded.body,
      data = excluded.data, updated_at = excluded.updated_at
    RETURNING *`);
}

export interface RawRow {
  id: string;
  user_id: string;
  type: string;
  group_key: string | null;
  actor_id: string | null;
  title: string;
  body: string;
  data: string;
  count: number;
  created_at: number;
  updated_at: number;
  read_at: number | null;
  delivered_via: string | null;
}

export function fromRaw(r: RawRow): NotificationRow {
  return {
    id: r.id,
    userId: r.user_id,
    type: r.type,
    groupKey: r.group_key,
    actorId: r.actor_id,
    title: r.title,
    body: r.body,
    data: r.data,
    count: r.count,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    readAt: r.read_at,
    deliveredVia: r.delivered_via,
  };
}

export async function setDeliveredVia(db: TenantDb, id: string, via: "realtime" | "push"): Promise<void> {
  await db.update(notifications).set({ deliveredVia: via }).where(eq(notifications.id, id));
}

/** Newest activity first; `before` is the [updatedAt, id] of the previous page's last row. */
export async function listNotifications(
  db: TenantDb,
  userId: string,
  q: { before?: [number, string] | undefined; limit: number; unreadOnly: boolean },
): Promise<NotificationRow[]> {
  const conds = [eq(notifications.userId, userId)];
  if (q.unreadOnly) conds.push(isNull(notifications.readAt));
  if (q.before) {
    const [t, id] = q.before;
    conds.push(or(lt(notifications.updatedAt, t), and(eq(notifications.updatedAt, t), lt(notifications.id, id)))!);
  }
  return db
    .select()
    .from(notifications)
    .where(and(...conds))
    .orderBy(desc(notifications.updatedAt), desc(notifications.id))
    .limit(q.limit)
    .all();
}

export async function unreadCount(db: TenantDb, userId: string): Promise<number> {
  const [row] = await db.all<{ n: number }>(
    sql`SELECT count(*) AS n FROM notifications WHERE user_id = ${userId} AND read_at IS NULL`,
  );
  return row?.n ?? 0;
}

/** Marks one of the user's notifications read (idempotent); undefined when it is not theirs. */
export async function markRead(
  db: TenantDb,
  userId: string,
  id: string,
  now: number,
): Promise<NotificationRow | undefined> {
  await db
    .update(notifications)
    .set({ readAt: now })
    .where(and(eq(notifications.id, id), eq(notifications.userId, userId), isNull(notifications.readAt)));
  return db
    .select()
    .from(notifications)
    .where(and(eq(notifications.id, id), eq(notifications.userId, userId)))
    .get();
}

export async function markAllRead(db: TenantDb, userId: string, now: number): Promise<number> {
  const r = await db
    .update(notifications)
    .set({ readAt: now })
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  return r.rowsAffected;
}

export async function deleteNotification(db: TenantDb, userId: string, id: string): Promise<boolean> {
  const r = await db.delete(notifications).where(and(eq(notifications.id, id), eq(notifications.userId, userId)));
  return r.rowsAffected > 0;
}

export async function mutedTypes(db: TenantDb, userId: string): Promise<string[]> {
  const row = await db.select().from(notificationPrefs).where(eq(notificationPrefs.userId, userId)).get();
  return row ? (JSON.parse(row.muted) as string[]) : [];
}

/** Muted types of many users in one query (users without preferences are absent). */
export async function mutedTypesOf(db: TenantDb, userIds: string[]): Promise<Map<string, string[]>> {
  if (!userIds.length) return new Map();
  const rows = await db.select().from(notificationPrefs).where(inArray(notificationPrefs.userId, userIds)).all();
  return new Map(rows.map((r) => [r.userId, JSON.parse(r.muted) as string[]]));
}

export async function setMutedTypes(db: TenantDb, userId: string, muted: string[], now: number): Promise<void> {
  await db
    .insert(notificationPrefs)
    .values({ userId, muted: JSON.stringify(muted), updatedAt: now })
    .onConflictDoUpdate({ target: notificationPrefs.userId, set: { muted: JSON.stringify(muted), updatedAt: now } });
}

/**
 * The inbox rows of an announcement, one per active user (of `role`, when given) who has not
 * muted announcements, in one INSERT … SELECT (ids are `<announcement id>.<user id>`).
 */
export function fanOutAnnouncement(db: TenantDb, a: AnnouncementRow, data: Record<string, unknown>, now: number) {
  const roleFilter = a.role
    ? sql`AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name = ${a.role})`
    : sql``;
  return db.run(sql`
    INSERT INTO notifications (id, user_id, type, group_key, actor_id, title, body, data, count, created_at, updated_at)
    SELECT ${a.id} || '.' || u.id, u.id, 'announcement', NULL, ${a.createdBy}, ${a.title}, ${a.body}, ${JSON.stringify(data)}, 1, ${now}, ${now}
    FROM users u
    WHERE u.status = 'active' ${roleFilter}
      AND NOT EXISTS (SELECT 1 FROM notification_prefs p, json_each(p.muted) m WHERE p.user_id = u.id AND m.value = 'announcement')
    ON CONFLICT (id) DO NOTHING`);
}

/** The recipients of an announcement, a page at a time (for realtime delivery after the fan-out). */
export async function announcementRecipients(
  db: TenantDb,
  announcementId: string,
  after: string,
  limit: number,
): Promise<string[]> {
  const rows = await db.all<{ user_id: string }>(sql`
    SELECT user_id FROM notifications WHERE id > ${`${announcementId}.${after}`} AND id < ${`${announcementId}/`} ORDER BY id LIMIT ${limit}`);
  return rows.map((r) => r.user_id);
}
