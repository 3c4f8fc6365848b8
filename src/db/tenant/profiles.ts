import { and, asc, count, desc, eq, gt, lt, or, type SQL, sql } from "drizzle-orm";
import { mergeSettings, UserSettingsSchema, type UserSettings, type UserSettingsPatch } from "../../lib/user-settings";
import type { TenantDb } from "../client";
import { outboxInsert } from "./outbox";
import type { SearchQuery } from "../../lib/search-query";
import { blocks, follows, profiles, userSettings, users, type ProfileRow, type UserRow } from "./schema";

export async function profileOf(db: TenantDb, userId: string): Promise<ProfileRow | undefined> {
  return db.select().from(profiles).where(eq(profiles.userId, userId)).get();
}

export async function settingsOf(db: TenantDb, userId: string): Promise<UserSettings> {
  const row = await db.select().from(userSettings).where(eq(userSettings.userId, userId)).get();
  return UserSettingsSchema.parse(row ? JSON.parse(row.value) : {});
}

export type ProfilePatch = Partial<
  Pick<ProfileRow, "nickname" | "avatarFileId" | "bio" | "locale" | "gender" | "birthday" | "region">
>;

/** Updates profile fields, the search entry and the `profile.updated` event in one batch. */
export async function updateProfile(
  db: TenantDb,
  user: UserRow,
  patch: ProfilePatch,
  now = Date.now(),
  also: SQL[] = [],
): Promise<void> {
  const ops = [
    db
      .update(profiles)
      .set({ ...patch, updatedAt: now })
      .where(eq(profiles.userId, user.id)),
    outboxInsert(
      db,
      { type: "profile.updated", subject: user.id, data: { userId: user.id, fields: Object.keys(patch) } },
      now,
    ),
  ] as const;
  const extra = also.map((q) => db.run(q));
  if (patch.nickname === undefined) return void (await db.batch([...ops, ...extra]));
  await db.batch([
    ...ops,
    db.run(sql`UPDATE user_search SET nickname = ${patch.nickname} WHERE user_id = ${user.id}`),
    ...extra,
  ]);
}

export async function updateSettings(
  db: TenantDb,
  userId: string,
  patch: UserSettingsPatch,
  now = Date.now(),
): Promise<UserSettings> {
  const next = mergeSettings(await settingsOf(db, userId), patch);
  await db
    .insert(userSettings)
    .values({ userId, value: JSON.stringify(next), searchable: next.privacy.searchable, updatedAt: now })
    .onConflictDoUpdate({
      target: userSettings.userId,
      set: { value: JSON.stringify(next), searchable: next.privacy.searchable, updatedAt: now },
    })
    .run();
  return next;
}

/** Either user blocked the other (blocks apply both ways for visibility). */
export async function blockedEitherWay(db: TenantDb, a: string, b: string): Promise<boolean> {
  const row = await db
    .select({ n: count() })
    .from(blocks)
    .where(
      or(and(eq(blocks.blockerId, a), eq(blocks.blockedId, b)), and(eq(blocks.blockerId, b), eq(blocks.blockedId, a))),
    )
    .get();
  return (row?.n ?? 0) > 0;
}

export async function hasBlocked(db: TenantDb, blocker: string, blocked: string): Promise<boolean> {
  const row = await db
    .select({ n: count() })
    .from(blocks)
    .where(and(eq(blocks.blockerId, blocker), eq(blocks.blockedId, blocked)))
    .get();
  return (row?.n ?? 0) > 0;
}

export async function followCounts(db: TenantDb, userId: string): Promise<{ followers: number; following: number }> {
  const [a, b] = await Promise.all([
    db.select({ n: count() }).from(follows).where(eq(follows.followeeId, userId)).get(),
    db.select({ n: count() }).from(follows).where(eq(follows.followerId, userId)).get(),
  ]);
  return { followers: a?.n ?? 0, following: b?.n ?? 0 };
}

/** Follow rows newest first, cursor on (created_at, id). */
export async function followPage(
  db: TenantDb,
  userId: string,
  side: "followers" | "following",
  limit: number,
  before?: [number, string],
) {
  const mine = side === "followers" ? follows.followeeId : follows.followerId;
  const other = side === "followers" ? follows.followerId : follows.followeeId;
  const conds = [eq(mine, userId)];
  if (before)
    conds.push(or(lt(follows.createdAt, before[0]), and(eq(follows.createdAt, before[0]), lt(other, before[1])))!);
  return db
    .select({ userId: other, username: users.username, createdAt: follows.createdAt, profile: profiles })
    .from(follows)
    .innerJoin(profiles, eq(profiles.userId, other))
    .innerJoin(users, eq(users.id, other))
    .where(and(...conds, eq(users.status, "active")))
    .orderBy(desc(follows.createdAt), desc(other))
    .limit(limit)
    .all();
}

/**
 * Search by username or nickname: FTS5 trigram for 3+ characters (substring, CJK included),
 * LIKE for shorter queries (trigram MATCH needs 3). Excludes the searcher, unsearchable and
 * inactive users, and users who blocked the searcher. Ordered by user id for stable cursors.
 */
export async function searchProfiles(db: TenantDb, searcher: string, q: SearchQuery, limit: number, after?: string) {
  const match = q.phrase
    ? sql`${users.id} IN (SELECT user_id FROM user_search WHERE user_search MATCH ${q.phrase})`
    : sql`(${users.username} LIKE ${q.like} ESCAPE '\\' OR lower(${profiles.nickname}) LIKE ${q.like} ESCAPE '\\')`;
  return db
    .select({ user: users, profile: profiles })
    .from(users)
    .innerJoin(profiles, eq(profiles.userId, users.id))
    .innerJoin(userSettings, eq(userSettings.userId, users.id))
    .where(
      and(
        match,
        eq(users.status, "active"),
        eq(userSettings.searchable, true),
        sql`${users.id} != ${searcher}`,
        sql`NOT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ${users.id} AND blocked_id = ${searcher})`,
        after ? gt(users.id, after) : undefined,
      ),
    )
    .orderBy(asc(users.id))
    .limit(limit)
    .all();
}

/** Follows idempotently: a retry inserts nothing and emits no second `follow.created`. */
export async function follow(db: TenantDb, follower: string, followee: string, now = Date.now()): Promise<boolean> {
  return db.transaction(async (tx) => {
    const res = await tx
      .insert(follows)
      .values({ followerId: follower, followeeId: followee, createdAt: now })
      .onConflictDoNothing()
      .run();
    if (res.rowsAffected === 0) return false;
    await outboxInsert(
      tx as unknown as TenantDb,
      { type: "follow.created", subject: followee, data: { followerId: follower, followeeId: followee } },
      now,
    ).run();
    return true;
  });
}

export async function unfollow(db: TenantDb, follower: string, followee: string, now = Date.now()): Promise<boolean> {
  return db.transaction(async (tx) => {
    const res = await tx
      .delete(follows)
      .where(and(eq(follows.followerId, follower), eq(follows.followeeId, followee)))
      .run();
    if (res.rowsAffected === 0) return false;
    await outboxInsert(
      tx as unknown as TenantDb,
      { type: "follow.removed", subject: followee, data: { followerId: follower, followeeId: followee } },
      now,
    ).run();
    return true;
  });
}

/** Mirrors a block (or its removal) into the tenant DB, idempotently. */
export async function setBlockMirror(
  db: TenantDb,
  blocker: string,
  blocked: string,
  on: boolean,
  now = Date.now(),
): Promise<void> {
  if (on) {
    await db.batch([
      db.insert(blocks).values({ blockerId: blocker, blockedId: blocked, createdAt: now }).onConflictDoNothing(),
      // Blocking also ends follows both ways (blocks apply to follows).
      db
        .delete(follows)
        .where(
          or(
            and(eq(follows.followerId, blocker), eq(follows.followeeId, blocked)),
            and(eq(follows.followerId, blocked), eq(follows.followeeId, blocker)),
          ),
        ),
    ]);
  } else {
    await db
      .delete(blocks)
      .where(and(eq(blocks.blockerId, blocker), eq(blocks.blockedId, blocked)))
      .run();
  }
}
