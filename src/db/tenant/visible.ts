import { and, eq, isNull, or, sql, type SQL } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import { posts } from "./schema";

/**
 * What a viewer's lists of posts need to apply visibility in SQL: their friends and everyone
 * blocked either way (both from the viewer's user hub). Follows are read in the query itself.
 */
export interface Circle {
  viewer: string;
  friends: string[];
  blocked: string[];
}

const ids = (list: string[]) => sql`(SELECT value FROM json_each(${JSON.stringify(list)}))`;

/** The user in `column` is not blocked either way by the circle's viewer. */
export const notBlocked = (column: AnySQLiteColumn, c: Circle): SQL => sql`${column} NOT IN ${ids(c.blocked)}`;

/**
 * The author in `column` shows their content: active, or erased (what the erasure kept under
 * `privacy.contentOnErasure = anonymize` shows under a deleted user). A suspended user's content
 * is hidden, as their profile is, and so is a deleted user's until their erasure finishes.
 */
export const shownAuthor = (column: AnySQLiteColumn): SQL =>
  sql`EXISTS (SELECT 1 FROM users u WHERE u.id = ${column} AND (u.status = 'active' OR u.erased_at IS NOT NULL))`;

/**
 * The SQL form of the visibility rules (src/workers/content/visibility.ts) for lists: a published,
 * undeleted post whose author is active and not blocked either way, and whose visibility lets the
 * viewer in (their own; public; followers if they follow the author; friends if friends).
 */
export function visibleTo(c: Circle): SQL {
  return and(
    eq(posts.status, "published"),
    isNull(posts.deletedAt),
    notBlocked(posts.authorId, c),
    shownAuthor(posts.authorId),
    or(
      eq(posts.authorId, c.viewer),
      eq(posts.visibility, "public"),
      and(
        eq(posts.visibility, "followers"),
        sql`EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${c.viewer} AND f.followee_id = ${posts.authorId})`,
      ),
      and(eq(posts.visibility, "friends"), sql`${posts.authorId} IN ${ids(c.friends)}`),
    ),
  )!;
}
