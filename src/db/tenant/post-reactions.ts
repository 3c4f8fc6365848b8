import { and, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { TenantDb } from "../client";
import { outboxInsertIf } from "./outbox";
import { postBookmarks, postLikes, posts, profiles } from "./schema";

/** A reaction a user can put on a post once: its table and the post's counter column. */
export type Reaction = "like" | "bookmark";
const TABLE = { like: "post_likes", bookmark: "post_bookmarks" } as const;
const COUNTER = { like: "like_count", bookmark: "bookmark_count" } as const;

/**
 * Puts (on = true) or takes away a user's like or bookmark, idempotently. One batch: the row
 * insert (OR IGNORE) or delete, then the counter moves only if that changed a row (`changes()`),
 * so parallel and retried requests leave the counter equal to the number of rows. A first like
 * writes `post.liked` to the outbox in the same batch, guarded the same way. True when it changed.
 */
export async function setReaction(
  db: TenantDb,
  kind: Reaction,
  postId: string,
  userId: string,
  on: boolean,
  now = Date.now(),
): Promise<boolean> {
  const table = sql.raw(TABLE[kind]);
  const counter = sql.raw(COUNTER[kind]);
  const change = on
    ? sql`INSERT OR IGNORE INTO ${table} (post_id, user_id, created_at) VALUES (${postId}, ${userId}, ${now})`
    : sql`DELETE FROM ${table} WHERE post_id = ${postId} AND user_id = ${userId}`;
  const delta = on ? 1 : -1;
  const event =
    on && kind === "like"
      ? [outboxInsertIf(db, { type: "post.liked", subject: userId, data: { postId, userId } }, sql`changes() = 1`, now)]
      : [];
  const [res] = await db.batch([
    db.run(change),
    db.run(sql`UPDATE posts SET ${counter} = ${counter} + ${delta} WHERE id = ${postId} AND changes() = 1`),
    ...event,
  ]);
  return (res as { rowsAffected: number }).rowsAffected === 1;
}

/** The viewer's likes and bookmarks among a page of posts, in two queries. */
export async function viewerMarks(
  db: TenantDb,
  viewer: string,
  postIds: string[],
): Promise<(id: string) => { liked: boolean; bookmarked: boolean }> {
  if (postIds.length === 0) return () => ({ liked: false, bookmarked: false });
  const [liked, bookmarked] = await Promise.all([
    db
      .select({ id: postLikes.postId })
      .from(postLikes)
      .where(and(eq(postLikes.userId, viewer), inArray(postLikes.postId, postIds)))
      .all(),
    db
      .select({ id: postBookmarks.postId })
      .from(postBookmarks)
      .where(and(eq(postBookmarks.userId, viewer), inArray(postBookmarks.postId, postIds)))
      .all(),
  ]);
  const l = new Set(liked.map((r) => r.id));
  const b = new Set(bookmarked.map((r) => r.id));
  return (id) => ({ liked: l.has(id), bookmarked: b.has(id) });
}

/**
 * One page of a user's bookmarked posts, newest bookmark first, cursor on the bookmark's
 * (created_at, post_id); deleted posts are left out (visibility is the caller's to check).
 */
export async function bookmarkPage(db: TenantDb, userId: string, limit: number, before?: [number, string]) {
  return db
    .select({ at: postBookmarks.createdAt, post: posts })
    .from(postBookmarks)
    .innerJoin(posts, eq(posts.id, postBookmarks.postId))
    .where(
      and(
        eq(postBookmarks.userId, userId),
        isNull(posts.deletedAt),
        before
          ? or(
              lt(postBookmarks.createdAt, before[0]),
              and(eq(postBookmarks.createdAt, before[0]), lt(postBookmarks.postId, before[1])),
            )
          : undefined,
      ),
    )
    .orderBy(desc(postBookmarks.createdAt), desc(postBookmarks.postId))
    .limit(limit)
    .all();
}

/** One page of who liked a post, newest like first, cursor on (created_at, user_id). */
export async function likerPage(db: TenantDb, postId: string, limit: number, before?: [number, string]) {
  return db
    .select({ userId: postLikes.userId, at: postLikes.createdAt, nickname: profiles.nickname })
    .from(postLikes)
    .leftJoin(profiles, eq(profiles.userId, postLikes.userId))
    .where(
      and(
        eq(postLikes.postId, postId),
        before
          ? or(
              lt(postLikes.createdAt, before[0]),
              and(eq(postLikes.createdAt, before[0]), lt(postLikes.userId, before[1])),
            )
          : undefined,
      ),
    )
    .orderBy(desc(postLikes.createdAt), desc(postLikes.userId))
    .limit(limit)
    .all();
}
