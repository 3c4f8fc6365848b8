import { and, desc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { before as beforeKey } from "./keyset";
import type { TenantDb } from "../client";
import { outboxInsertIf } from "./outbox";
import { postBookmarks, postLikes, posts, profiles, users } from "./schema";
import { type Circle, notBlocked, visibleTo } from "./visible";

/**
 * A mark a user can put on a post or comment once: its table (one row per target and user), the
 * table and counter column it keeps exact, and the event a mark emits (`first`: only the user's
 * first mark of the target ever, remembered in first_likes; otherwise every mark that inserted a row).
 */
export type Reaction = "like" | "bookmark" | "comment-like";
const REACTIONS = {
  like: {
    table: "post_likes",
    key: "post_id",
    target: "posts",
    counter: "like_count",
    event: "post.liked",
    first: true,
  },
  bookmark: {
    table: "post_bookmarks",
    key: "post_id",
    target: "posts",
    counter: "bookmark_count",
    event: "post.bookmarked",
    first: false,
  },
  "comment-like": {
    table: "comment_likes",
    key: "comment_id",
    target: "comments",
    counter: "like_count",
    event: "comment.liked",
    first: true,
  },
} as const;

/**
 * Puts (on = true) or takes away a user's mark on a target, idempotently. One batch: the row
 * insert (OR IGNORE) or delete, then the counter moves only if that changed a row (`changes()`),
 * so parallel and retried requests leave the counter equal to the number of rows. A user's first
 * like of a target ever (first_likes remembers it across unlikes) writes its event (`post.liked`,
 * `comment.liked`; `data` plus the user) to the outbox in the same batch, guarded the same way:
 * taking a like back and giving it again notifies and counts no one twice. A bookmark that inserted
 * a row writes `post.bookmarked` (recommendations weigh it; a repeat only restates the weight).
 * True when it changed.
 */
export async function setReaction(
  db: TenantDb,
  kind: Reaction,
  targetId: string,
  userId: string,
  on: boolean,
  data: Record<string, unknown>,
  now = Date.now(),
): Promise<boolean> {
  const r = REACTIONS[kind];
  const [table, key, target, counter] = [r.table, r.key, r.target, r.counter].map((n) => sql.raw(n));
  const change = on
    ? sql`INSERT OR IGNORE INTO ${table} (${key}, user_id, created_at) VALUES (${targetId}, ${userId}, ${now})`
    : sql`DELETE FROM ${table} WHERE ${key} = ${targetId} AND user_id = ${userId}`;
  const delta = on ? 1 : -1;
  // A like that inserted a row, then (if the user never liked the target before) its first_likes
  // row, then the event: each guarded by the changes() of the statement before it.
  const kindOf = r.target === "posts" ? "post" : "comment";
  const emit = () =>
    outboxInsertIf(db, { type: r.event, subject: userId, data: { ...data, userId } }, sql`changes() = 1`, now);
  const firstOnly = () =>
    db.run(sql`INSERT OR IGNORE INTO first_likes (kind, target_id, user_id, created_at)
      SELECT ${kindOf}, ${targetId}, ${userId}, ${now} WHERE changes() = 1`);
  // Without first_likes, the event is guarded by the counter's UPDATE, which ran only after an insert.
  const event = on ? (r.first ? [firstOnly(), emit()] : [emit()]) : [];
  const [res] = await db.batch([
    db.run(change),
    db.run(sql`UPDATE ${target} SET ${counter} = ${counter} + ${delta} WHERE id = ${targetId} AND changes() = 1`),
    ...event,
  ]);
  return (res as { rowsAffected: number }).rowsAffected === 1;
}

/**
 * The query for the viewer's likes and bookmarks among a page of posts (one statement, so it can
 * share a batch with the page's other reads): rows of (post id, "like" | "bookmark").
 */
export function viewerMarksQuery(db: TenantDb, viewer: string, postIds: string[]) {
  return db
    .select({ id: postLikes.postId, kind: sql<string>`'like'`.as("kind") })
    .from(postLikes)
    .where(and(eq(postLikes.userId, viewer), inArray(postLikes.postId, postIds)))
    .unionAll(
      db
        .select({ id: postBookmarks.postId, kind: sql<string>`'bookmark'`.as("kind") })
        .from(postBookmarks)
        .where(and(eq(postBookmarks.userId, viewer), inArray(postBookmarks.postId, postIds))),
    );
}

/** The viewer's marks by post id, from {@link viewerMarksQuery}'s rows. */
export function viewerMarksOf(
  rows: { id: string; kind: string }[],
): (id: string) => { liked: boolean; bookmarked: boolean } {
  const l = new Set(rows.filter((r) => r.kind === "like").map((r) => r.id));
  const b = new Set(rows.filter((r) => r.kind === "bookmark").map((r) => r.id));
  return (id) => ({ liked: l.has(id), bookmarked: b.has(id) });
}

/**
 * One page of a user's bookmarked posts they may still see, newest bookmark first, cursor on the
 * bookmark's (created_at, post_id); deleted and hidden posts are left out in SQL.
 */
export async function bookmarkPage(db: TenantDb, circle: Circle, limit: number, before?: [number, string]) {
  return db
    .select({ at: postBookmarks.createdAt, post: posts })
    .from(postBookmarks)
    .innerJoin(posts, eq(posts.id, postBookmarks.postId))
    .where(
      and(
        eq(postBookmarks.userId, circle.viewer),
        isNull(posts.deletedAt),
        // One's own posts in any status; others' while the viewer may see them (visible.ts).
        or(eq(posts.authorId, circle.viewer), visibleTo(circle)),
        beforeKey(postBookmarks.createdAt, postBookmarks.postId, before),
      ),
    )
    .orderBy(desc(postBookmarks.createdAt), desc(postBookmarks.postId))
    .limit(limit)
    .all();
}

/**
 * One page of who liked a post, newest like first, cursor on (created_at, user_id): active users
 * with no block either way with the viewer (a suspended or deleted account is not listed).
 */
export async function likerPage(
  db: TenantDb,
  circle: Circle,
  postId: string,
  limit: number,
  before?: [number, string],
) {
  return db
    .select({ userId: postLikes.userId, at: postLikes.createdAt, nickname: profiles.nickname })
    .from(postLikes)
    .leftJoin(profiles, eq(profiles.userId, postLikes.userId))
    .innerJoin(users, eq(users.id, postLikes.userId))
    .where(
      and(
        eq(postLikes.postId, postId),
        eq(users.status, "active"),
        notBlocked(postLikes.userId, circle),
        beforeKey(postLikes.createdAt, postLikes.userId, before),
      ),
    )
    .orderBy(desc(postLikes.createdAt), desc(postLikes.userId))
    .limit(limit)
    .all();
}
