import { and, asc, count, desc, eq, inArray, isNull, or, type SQL } from "drizzle-orm";
import { after as afterKey, before as beforeKey } from "./keyset";
import type { TenantDb } from "../client";
import { type DomainEvent, outboxInsert } from "./outbox";
import { files, follows, posts, postTags, profiles, type PostRow, type PostVisibility } from "./schema";
import { postIndexOps, unindexOps, unindexPostCommentsOps } from "./search";

export type { PostRow, PostVisibility } from "./schema";

/** A post by id, not deleted (a deleted post is gone for everyone). */
export async function findPost(db: TenantDb, id: string): Promise<PostRow | undefined> {
  return db
    .select()
    .from(posts)
    .where(and(eq(posts.id, id), isNull(posts.deletedAt)))
    .get();
}

/** How many of these distinct file ids are the owner's finished uploads (any purpose). */
export async function ownReadyFiles(db: TenantDb, ownerId: string, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const row = await db
    .select({ n: count() })
    .from(files)
    .where(and(inArray(files.id, ids), eq(files.ownerId, ownerId), eq(files.status, "ready")))
    .get();
  return row?.n ?? 0;
}

/** Undeleted posts by id, in the order of `ids` (missing ones left out). */
export async function postsByIds(db: TenantDb, ids: string[]): Promise<PostRow[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select()
    .from(posts)
    .where(and(inArray(posts.id, ids), isNull(posts.deletedAt)))
    .all();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** True when `follower` follows `followee`. */
export async function isFollowing(db: TenantDb, follower: string, followee: string): Promise<boolean> {
  const row = await db
    .select({ n: count() })
    .from(follows)
    .where(and(eq(follows.followerId, follower), eq(follows.followeeId, followee)))
    .get();
  return (row?.n ?? 0) > 0;
}

/** The tag rows of a post: one per tag while it is published, none otherwise. */
function tagRows(db: TenantDb, post: PostRow) {
  const tags = JSON.parse(post.tags) as string[];
  const clear = db.delete(postTags).where(eq(postTags.postId, post.id));
  if (post.status !== "published" || post.deletedAt !== null || !post.publishedAt || tags.length === 0) return [clear];
  return [
    clear,
    db.insert(postTags).values(tags.map((tag) => ({ tag, postId: post.id, publishedAt: post.publishedAt! }))),
  ];
}

/** `post.published`; `mentioned`: the users its text mentions who may see it (decided by the caller). */
const publishedEvent = (post: PostRow, mentioned: string[] = []) => ({
  type: "post.published",
  subject: post.authorId,
  data: { postId: post.id, authorId: post.authorId, visibility: post.visibility, mentioned },
});

/**
 * Inserts a post, its tags, its search index rows, (when published) `post.published` and `also`
 * (a held post's review item), in one batch.
 */
export async function insertPost(
  db: TenantDb,
  post: PostRow,
  mentioned: string[] = [],
  also: SQL[] = [],
): Promise<void> {
  const event = post.status === "published" ? [outboxInsert(db, publishedEvent(post, mentioned), post.createdAt)] : [];
  const index = post.status === "published" ? postIndexOps(db, post, post.createdAt) : [];
  await db.batch([
    db.insert(posts).values(post),
    ...tagRows(db, post),
    ...index,
    ...event,
    ...also.map((q) => db.run(q)),
  ]);
}

/**
 * What else a post's update writes in its transaction: more outbox events, more statements, and
 * the users a first publication's `post.published` names as mentioned.
 */
export interface UpdateAlso {
  events?: DomainEvent[];
  statements?: SQL[];
  mentioned?: string[];
}

/**
 * Writes an edited post (`next`); the first publication of a draft emits `post.published` in the
 * same transaction, as do `also`'s events and statements (a moderator's `post.removed` and the
 * reports it resolves). The update only applies to the row as it was read (`updated_at`
 * unchanged), so two concurrent edits cannot both publish it: false when another write came first.
 */
export async function updatePost(db: TenantDb, prev: PostRow, next: PostRow, also: UpdateAlso = {}): Promise<boolean> {
  const firstPublish = prev.publishedAt === null && next.publishedAt !== null;
  return db.transaction(async (tx) => {
    const t = tx as unknown as TenantDb;
    // Only the columns an edit owns: the counters move under likes, comments and views without
    // touching updated_at, so writing the row as read would lose them.
    const res = await t
      .update(posts)
      .set({
        title: next.title,
        body: next.body,
        tags: next.tags,
        media: next.media,
        visibility: next.visibility,
        minVipLevel: next.minVipLevel,
        status: next.status,
        updatedAt: next.updatedAt,
        editedAt: next.editedAt,
        publishedAt: next.publishedAt,
      })
      .where(and(eq(posts.id, prev.id), eq(posts.updatedAt, prev.updatedAt), isNull(posts.deletedAt)))
      .run();
    if (res.rowsAffected === 0) return false;
    for (const op of tagRows(t, next)) await op.run();
    // The search index follows the post in the same transaction: found by its new text at once,
    // never by its old, and out of the index when it went back to draft.
    for (const op of postIndexOps(t, next, next.updatedAt)) await op;
    if (firstPublish) await outboxInsert(t, publishedEvent(next, also.mentioned), next.updatedAt).run();
    for (const e of also.events ?? []) await outboxInsert(t, e, next.updatedAt).run();
    for (const q of also.statements ?? []) await t.run(q);
    return true;
  });
}

/** Soft-deletes a post and drops its tag rows and its and its comments' search index rows; false when it was deleted already. */
export async function deletePost(db: TenantDb, id: string, now = Date.now()): Promise<boolean> {
  const [res] = await db.batch([
    db
      .update(posts)
      .set({ deletedAt: now })
      .where(and(eq(posts.id, id), isNull(posts.deletedAt))),
    db.delete(postTags).where(eq(postTags.postId, id)),
    ...unindexOps(db, "post", id),
    ...unindexPostCommentsOps(db, id),
  ]);
  return res.rowsAffected > 0;
}

/**
 * One page of an author's posts, newest first, cursor on (created_at, id): the given statuses
 * and visibilities only, never deleted ones.
 */
export async function authorPostPage(
  db: TenantDb,
  authorId: string,
  filter: { statuses: PostRow["status"][]; visibilities: PostVisibility[] },
  limit: number,
  before?: [number, string],
): Promise<PostRow[]> {
  return db
    .select()
    .from(posts)
    .where(
      and(
        eq(posts.authorId, authorId),
        isNull(posts.deletedAt),
        inArray(posts.status, filter.statuses),
        inArray(posts.visibility, filter.visibilities),
        beforeKey(posts.createdAt, posts.id, before),
      ),
    )
    .orderBy(desc(posts.createdAt), desc(posts.id))
    .limit(limit)
    .all();
}

export interface PostAuthor {
  id: string;
  nickname: string;
  avatarFileId: string | null;
}

/** The query for the display fields of a page's authors (to share a batch with its other reads). */
export function authorsQuery(db: TenantDb, ids: string[]) {
  return db
    .select({ id: profiles.userId, nickname: profiles.nickname, avatarFileId: profiles.avatarFileId })
    .from(profiles)
    .where(inArray(profiles.userId, [...new Set(ids)]));
}

/** Authors by id, from {@link authorsQuery}'s rows (a vanished one shows blank). */
export function authorsOf(rows: PostAuthor[]): (id: string) => PostAuthor {
  const byId = new Map(rows.map((r) => [r.id, r]));
  return (id) => byId.get(id) ?? { id, nickname: "", avatarFileId: null };
}

/** One page of the posts held for review or removed, oldest change first (a moderator's queue). */
export async function heldPostPage(
  db: TenantDb,
  status: "under_review" | "removed",
  limit: number,
  after?: [number, string],
): Promise<PostRow[]> {
  return db
    .select()
    .from(posts)
    .where(and(eq(posts.status, status), isNull(posts.deletedAt), afterKey(posts.updatedAt, posts.id, after)))
    .orderBy(asc(posts.updatedAt), asc(posts.id))
    .limit(limit)
    .all();
}
