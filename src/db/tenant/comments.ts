import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, or, sql, type SQL } from "drizzle-orm";
import { after as afterKey, before as beforeKey } from "./keyset";
import type { TenantDb } from "../client";
import { outboxInsert } from "./outbox";
import { commentLikes, comments, posts, type CommentRow } from "./schema";
import { commentIndexOps, unindexOps } from "./search";
import { shownAuthor, type Circle, notBlocked } from "./visible";

export type { CommentRow } from "./schema";

/** The order of a post's top-level comments: by time either way, or most liked first. */
export type CommentSort = "oldest" | "newest" | "top";

/** A comment by id, deleted ones included (a tombstone still anchors its replies). */
export async function findComment(db: TenantDb, id: string): Promise<CommentRow | undefined> {
  return db.select().from(comments).where(eq(comments.id, id)).get();
}

/**
 * Inserts a comment with its `comment.created` event and its search index rows, in one batch: the
 * post's comment_count and (for a reply) the top-level comment's reply_count move with it. `data`
 * is the event's.
 */
export async function insertComment(
  db: TenantDb,
  row: CommentRow,
  data: Record<string, unknown>,
  also: SQL[] = [],
): Promise<void> {
  const event = outboxInsert(db, { type: "comment.created", subject: row.authorId, data }, row.createdAt);
  const bumpPost = db
    .update(posts)
    .set({ commentCount: sql`${posts.commentCount} + 1` })
    .where(eq(posts.id, row.postId));
  const bumpParent = row.parentId
    ? [
        db
          .update(comments)
          .set({ replyCount: sql`${comments.replyCount} + 1` })
          .where(eq(comments.id, row.parentId)),
      ]
    : [];
  const index = commentIndexOps(db, row, row.createdAt);
  await db.batch([
    db.insert(comments).values(row),
    bumpPost,
    ...bumpParent,
    ...index,
    event,
    ...also.map((q) => db.run(q)),
  ]);
}

/**
 * Soft-deletes a comment; the post's comment_count and (for a reply) its top-level comment's
 * reply_count go down only if this call deleted it (each statement guarded by `changes()` of
 * the one before), so a repeated or racing delete decrements once. Its search index rows go in the
 * same batch, and `also` (a moderator's status change and the reports it resolves). False when it
 * was gone already.
 */
export async function deleteComment(db: TenantDb, c: CommentRow, now = Date.now(), also: SQL[] = []): Promise<boolean> {
  const parent = c.parentId
    ? [db.run(sql`UPDATE comments SET reply_count = reply_count - 1 WHERE id = ${c.parentId} AND changes() = 1`)]
    : [];
  const [res] = await db.batch([
    db.run(sql`UPDATE comments SET deleted_at = ${now} WHERE id = ${c.id} AND deleted_at IS NULL`),
    db.run(sql`UPDATE posts SET comment_count = comment_count - 1 WHERE id = ${c.postId} AND changes() = 1`),
    ...parent,
    ...unindexOps(db, "comment", c.id),
    ...also.map((q) => db.run(q)),
  ]);
  return (res as { rowsAffected: number }).rowsAffected === 1;
}

/** A top-level comment shows while it lives, or as a tombstone while live replies hang on it. */
const shown = or(isNull(comments.deletedAt), gt(comments.replyCount, 0));
/** A live comment held for review shows to its author only (a tombstone shows nothing of it). */
const heldFor = (viewer: string) =>
  or(eq(comments.status, "published"), eq(comments.authorId, viewer), isNotNull(comments.deletedAt));
/** A live comment by someone blocked either way does not show (a tombstone shows no author). */
const notBlockedIn = (c: Circle) => or(isNotNull(comments.deletedAt), notBlocked(comments.authorId, c));
/** What a viewer sees of a list of comments: held ones only their own, none by users blocked either way. */
const seenBy = (c: Circle) => and(heldFor(c.viewer), notBlockedIn(c));
/** A live comment shows while its author is active (a suspended or deleted author's are hidden, as their posts are). */
const activeAuthor = or(isNotNull(comments.deletedAt), shownAuthor(comments.authorId));

/** The keyset condition and order of one sort; the cursor is [created_at or like_count, id]. */
function order(sort: CommentSort, after?: [number, string]): { where: SQL | undefined; by: SQL[] } {
  const key = sort === "top" ? comments.likeCount : comments.createdAt;
  const dir = sort === "oldest" ? asc : desc;
  const where = (sort === "oldest" ? afterKey : beforeKey)(key, comments.id, after);
  return { where, by: [dir(key), dir(comments.id)] };
}

/** One page of a post's top-level comments (tombstones with replies included) in the given order. */
export async function topLevelPage(
  db: TenantDb,
  circle: Circle,
  postId: string,
  sort: CommentSort,
  limit: number,
  after?: [number, string],
): Promise<CommentRow[]> {
  const o = order(sort, after);
  return db
    .select()
    .from(comments)
    .where(and(eq(comments.postId, postId), isNull(comments.parentId), shown, seenBy(circle), activeAuthor, o.where))
    .orderBy(...o.by)
    .limit(limit)
    .all();
}

/** One page of a top-level comment's live replies, oldest first, cursor on (created_at, id). */
export async function replyPage(
  db: TenantDb,
  circle: Circle,
  parentId: string,
  limit: number,
  after?: [number, string],
): Promise<CommentRow[]> {
  const o = order("oldest", after);
  return db
    .select()
    .from(comments)
    .where(
      and(
        eq(comments.parentId, parentId),
        isNotNull(comments.parentId),
        isNull(comments.deletedAt),
        seenBy(circle),
        activeAuthor,
        o.where,
      ),
    )
    .orderBy(...o.by)
    .limit(limit)
    .all();
}

/** The first `n` live replies of each of these top-level comments, in one round trip. */
export async function firstReplies(
  db: TenantDb,
  circle: Circle,
  parentIds: string[],
  n: number,
): Promise<Map<string, CommentRow[]>> {
  const out = new Map<string, CommentRow[]>();
  if (parentIds.length === 0) return out;
  const [first, ...rest] = parentIds.map((id) =>
    db
      .select()
      .from(comments)
      .where(and(eq(comments.parentId, id), isNull(comments.deletedAt), seenBy(circle), activeAuthor))
      .orderBy(asc(comments.createdAt), asc(comments.id))
      .limit(n),
  );
  const pages = await db.batch([first!, ...rest]);
  parentIds.forEach((id, i) => out.set(id, pages[i] ?? []));
  return out;
}

/** The query for which of these comments the viewer likes (to share a batch with the page's other reads). */
export function likedCommentsQuery(db: TenantDb, viewer: string, ids: string[]) {
  return db
    .select({ id: commentLikes.commentId })
    .from(commentLikes)
    .where(and(eq(commentLikes.userId, viewer), inArray(commentLikes.commentId, ids)));
}

/**
 * A held, live comment becomes published and searchable, in one transaction; false (and nothing
 * indexed) when it was not held any more or was deleted meanwhile.
 */
export async function approveComment(
  db: TenantDb,
  c: CommentRow,
  now = Date.now(),
  also: SQL[] = [],
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as TenantDb;
    const res = await t.run(
      sql`UPDATE comments SET status = 'published' WHERE id = ${c.id} AND status = 'under_review' AND deleted_at IS NULL`,
    );
    if (res.rowsAffected !== 1) return false;
    for (const op of commentIndexOps(t, { ...c, status: "published", deletedAt: null }, now)) await op;
    for (const q of also) await t.run(q);
    return true;
  });
}

/** One page of the live comments held for review, oldest first (a moderator's queue). */
export async function heldCommentPage(db: TenantDb, limit: number, after?: [number, string]): Promise<CommentRow[]> {
  const o = order("oldest", after);
  return db
    .select()
    .from(comments)
    .where(and(eq(comments.status, "under_review"), isNull(comments.deletedAt), o.where))
    .orderBy(...o.by)
    .limit(limit)
    .all();
}

/** The statement marking a comment removed by a moderator (for {@link deleteComment}'s `also`). */
export const markRemovedSql = (id: string) => sql`UPDATE comments SET status = 'removed' WHERE id = ${id}`;
