import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";
import { deleteComment } from "./comments";
import { forgetEmbeddingOp } from "./embeddings";
import { deletePost } from "./posts";
import { setReaction, type Reaction } from "./post-reactions";
import type { CommentRow } from "./schema-comments";

/**
 * An erased user's content under `privacy.contentOnErasure = delete` (docs/privacy.md), a page at
 * a time: every removal goes through the path a user's own delete takes, so counters stay exact
 * (likes, bookmarks, comments, replies) and search entries go with them; bodies are blanked too
 * (a user's own delete keeps them for moderation; an erasure must not). Each call does at most
 * `limit` items and answers how many it did: the caller repeats until 0.
 */
export async function eraseAuthoredContent(db: TenantDb, userId: string, limit: number, now: number): Promise<number> {
  const posts = await db.all<{ id: string }>(sql`SELECT id FROM posts WHERE author_id = ${userId}
    AND (deleted_at IS NULL OR title != '' OR body != '' OR media != '[]') LIMIT ${limit}`);
  for (const { id } of posts) {
    await deletePost(db, id, now);
    await db.batch([
      db.run(sql`UPDATE posts SET title = '', body = '', media = '[]', tags = '[]' WHERE id = ${id}`),
      forgetEmbeddingOp(db, "post", id),
    ]);
  }
  const comments = await db.all<Record<string, unknown>>(sql`SELECT id, post_id AS postId, parent_id AS parentId,
    deleted_at AS deletedAt FROM comments WHERE author_id = ${userId} AND (deleted_at IS NULL OR body != '')
    LIMIT ${limit}`);
  for (const c of comments) {
    const blank = sql`UPDATE comments SET body = '' WHERE id = ${c.id as string}`;
    if (c.deletedAt === null) await deleteComment(db, c as unknown as CommentRow, now, [blank]);
    else await db.run(blank);
  }
  return posts.length + comments.length;
}

/** Takes away a page of the user's likes and bookmarks (counters move with them); how many. */
export async function eraseReactions(db: TenantDb, userId: string, limit: number, now: number): Promise<number> {
  const rows = await db.all<{ kind: Reaction; target: string }>(sql`
    SELECT 'like' AS kind, post_id AS target FROM post_likes WHERE user_id = ${userId}
    UNION ALL SELECT 'bookmark', post_id FROM post_bookmarks WHERE user_id = ${userId}
    UNION ALL SELECT 'comment-like', comment_id FROM comment_likes WHERE user_id = ${userId}
    LIMIT ${limit}`);
  for (const r of rows) await setReaction(db, r.kind, r.target, userId, false, {}, now);
  // Remembered first likes only stop a like from notifying twice; the user is gone.
  if (rows.length === 0) await db.run(sql`DELETE FROM first_likes WHERE user_id = ${userId}`);
  return rows.length;
}

/** A page of the user's stored files (ready, or an upload under way), for erasure. */
export async function filesToErase(
  db: TenantDb,
  userId: string,
  limit: number,
): Promise<{ id: string; r2Key: string; uploadId: string | null; status: string; purpose: string; size: number }[]> {
  return db.all(sql`SELECT id, r2_key AS r2Key, upload_id AS uploadId, status, purpose, size FROM files
    WHERE owner_id = ${userId} AND status IN ('ready', 'uploading') LIMIT ${limit}`);
}

/** Names and digests of the user's deleted files go too (the rows stay: ids are never reused). */
export async function blankDeletedFiles(db: TenantDb, userId: string): Promise<void> {
  await db.run(sql`UPDATE files SET name = '', sha256 = NULL WHERE owner_id = ${userId} AND status = 'deleted'`);
}

/** Up to `limit` conversations the user is a member of (the tenant DB's index of them). */
export async function conversationIdsOf(db: TenantDb, userId: string, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(
    sql`SELECT conversation_id AS id FROM conversation_members WHERE user_id = ${userId} LIMIT ${limit}`,
  );
  return rows.map((r) => r.id);
}
