import { and, desc, eq, gte, sql } from "drizzle-orm";
import { before } from "./keyset";
import type { TenantDb } from "../client";
import { outboxInsertIf } from "./outbox";
import { posts, postTags, type PostRow } from "./schema";
import { type Circle, visibleTo } from "./visible";

export type { Circle } from "./visible";

/**
 * One page of the following feed: published posts of the authors the viewer follows and their
 * own, newest publication first, keyset on (published_at, id), so posts published while someone
 * pages only ever appear above where they are (no duplicates, no skips).
 */
export async function followingPage(db: TenantDb, c: Circle, limit: number, after?: [number, string]) {
  const authors = sql`(SELECT followee_id FROM follows WHERE follower_id = ${c.viewer} UNION ALL SELECT ${c.viewer})`;
  return db
    .select()
    .from(posts)
    .where(and(sql`${posts.authorId} IN ${authors}`, visibleTo(c), before(posts.publishedAt, posts.id, after)))
    .orderBy(desc(posts.publishedAt), desc(posts.id))
    .limit(limit)
    .all();
}

/** One page of a tag's posts the viewer may see, newest publication first. */
export async function tagPage(db: TenantDb, c: Circle, tag: string, limit: number, after?: [number, string]) {
  const rows = await db
    .select({ post: posts })
    .from(postTags)
    .innerJoin(posts, eq(posts.id, postTags.postId))
    .where(and(eq(postTags.tag, tag), visibleTo(c), before(postTags.publishedAt, postTags.postId, after)))
    .orderBy(desc(postTags.publishedAt), desc(postTags.postId))
    .limit(limit)
    .all();
  return rows.map((r) => r.post);
}

/** What the hot feed ranks a post by. */
export type HotCandidate = Pick<PostRow, "id" | "publishedAt" | "likeCount" | "commentCount" | "viewCount">;

/**
 * The hot feed's candidates: the most recent `cap` posts the viewer may see published since
 * `since`, as their ranking fields only (the page's rows are read afterwards, by id: bodies may be
 * long).
 */
export async function hotCandidates(db: TenantDb, c: Circle, since: number, cap: number): Promise<HotCandidate[]> {
  return db
    .select({
      id: posts.id,
      publishedAt: posts.publishedAt,
      likeCount: posts.likeCount,
      commentCount: posts.commentCount,
      viewCount: posts.viewCount,
    })
    .from(posts)
    .where(and(gte(posts.publishedAt, since), visibleTo(c)))
    .orderBy(desc(posts.publishedAt), desc(posts.id))
    .limit(cap)
    .all();
}

/**
 * Counts a view of a post by a viewer unless their last counted view is less than `windowMs` old:
 * one batch, the upsert changes a row only when it counts, and the counter and `post.viewed` move
 * only then. True when this view counted.
 */
export async function countView(db: TenantDb, postId: string, viewer: string, windowMs: number, now = Date.now()) {
  const viewed = { type: "post.viewed", subject: viewer, data: { postId, userId: viewer } };
  const [res] = await db.batch([
    db.run(sql`INSERT INTO post_viewers (post_id, user_id, counted_at) VALUES (${postId}, ${viewer}, ${now})
      ON CONFLICT (post_id, user_id) DO UPDATE SET counted_at = excluded.counted_at
      WHERE post_viewers.counted_at <= ${now - windowMs}`),
    db.run(sql`UPDATE posts SET view_count = view_count + 1 WHERE id = ${postId} AND changes() = 1`),
    // `post.viewed` (for statistics) exactly when the view counted.
    outboxInsertIf(db, viewed, sql`changes() = 1`, now),
  ]);
  return (res as { rowsAffected: number }).rowsAffected === 1;
}
