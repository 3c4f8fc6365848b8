import { and, asc, eq, gt, isNull, sql, type SQL } from "drizzle-orm";
import type { TenantDb } from "../client";
import { comments, posts, searchState, type SearchDocType } from "./schema";
import { commentDoc, postDoc, type SearchDoc } from "./search";
import { indexText } from "./search-tokens";

/**
 * Rebuilding the search index (docs/content.md, "Search"): a second FTS table (search_fts_next)
 * is filled from the documents' own rows while queries keep reading search_fts, then the two
 * are swapped by renaming them in one transaction. While a rebuild runs, every index write also
 * goes to search_fts_next (search.ts, indexOps), and each document the rebuild writes is guarded
 * by the version it read, so neither a write during the rebuild nor a later edit is lost.
 */

/** Where a rebuild reads one type of document, in pages by id, each with its version guard. */
export interface RebuildSource {
  type: SearchDocType;
  page(db: TenantDb, after: string | null, limit: number): Promise<{ doc: SearchDoc; unchanged: SQL }[]>;
}

/** Published, undeleted posts; a post edited or deleted since it was read is left to that write. */
export const postSource: RebuildSource = {
  type: "post",
  async page(db, after, limit) {
    const rows = await db
      .select()
      .from(posts)
      .where(and(eq(posts.status, "published"), isNull(posts.deletedAt), after ? gt(posts.id, after) : undefined))
      .orderBy(asc(posts.id))
      .limit(limit)
      .all();
    return rows.map((p) => ({
      doc: postDoc(p),
      unchanged: sql`EXISTS (SELECT 1 FROM posts WHERE id = ${p.id} AND updated_at = ${p.updatedAt}
        AND deleted_at IS NULL AND status = 'published')`,
    }));
  },
};

/** Live, published comments of undeleted posts; one (or its post) deleted since it was read is left to that write. */
export const commentSource: RebuildSource = {
  type: "comment",
  async page(db, after, limit) {
    const rows = await db
      .select({ comment: comments })
      .from(comments)
      .innerJoin(posts, eq(posts.id, comments.postId))
      .where(
        and(
          eq(comments.status, "published"),
          isNull(comments.deletedAt),
          isNull(posts.deletedAt),
          after ? gt(comments.id, after) : undefined,
        ),
      )
      .orderBy(asc(comments.id))
      .limit(limit)
      .all();
    return rows.map(({ comment: c }) => ({
      doc: commentDoc(c),
      unchanged: sql`EXISTS (SELECT 1 FROM comments c JOIN posts p ON p.id = c.post_id WHERE c.id = ${c.id}
        AND c.deleted_at IS NULL AND c.status = 'published' AND p.deleted_at IS NULL)`,
    }));
  },
};

/** Every kind of document the index holds, in the order a rebuild reads them. */
export const rebuildSources = [postSource, commentSource];

/** A rebuild not finished after this long is taken as dead (its Worker was stopped) and may start again. */
export const REBUILD_STALE_MS = 15 * 60_000;

/**
 * Marks a rebuild as started at `now` and empties the index it builds, in one batch; false when
 * another one runs (started less than {@link REBUILD_STALE_MS} ago).
 */
export async function beginRebuild(db: TenantDb, now: number): Promise<boolean> {
  const [res] = await db.batch([
    db.run(sql`UPDATE search_state SET rebuilding_since = ${now}
      WHERE id = 1 AND (rebuilding_since IS NULL OR rebuilding_since < ${now - REBUILD_STALE_MS})`),
    db.run(sql`INSERT INTO search_fts_next (search_fts_next) SELECT 'delete-all' WHERE changes() = 1`),
  ]);
  return res.rowsAffected === 1;
}

const stillOurs = async (db: TenantDb, since: number) =>
  (await db.select().from(searchState).where(eq(searchState.id, 1)).get())?.rebuildingSince === since;

/** The batch items writing one document into the index being built, if it is unchanged since read. */
function rebuildOps(db: TenantDb, { doc, unchanged }: { doc: SearchDoc; unchanged: SQL }, now: number) {
  const [title, body, tags] = [indexText(doc.title), indexText(doc.body), indexText(doc.tags.join(" "))];
  const key = sql`(SELECT doc_key FROM search_docs WHERE doc_type = ${doc.type} AND doc_id = ${doc.id})`;
  return [
    db.run(sql`INSERT OR IGNORE INTO search_docs (doc_type, doc_id, post_id, indexed_at)
      SELECT ${doc.type}, ${doc.id}, ${doc.postId}, ${now} WHERE ${unchanged}`),
    db.run(sql`DELETE FROM search_fts_next WHERE rowid = ${key} AND ${unchanged}`),
    db.run(sql`INSERT INTO search_fts_next (rowid, title, body, tags)
      SELECT ${key}, ${title}, ${body}, ${tags} WHERE ${unchanged}`),
  ];
}

/**
 * Runs a rebuild begun at `since` (see {@link beginRebuild}) to the end: every source in pages of
 * `pageSize` documents (one batch each), then the swap. Stops without swapping when another
 * rebuild took over. Documents the new index does not hold lose their search_docs row at the swap.
 */
export async function runRebuild(
  db: TenantDb,
  since: number,
  sources: RebuildSource[],
  pageSize = 100,
  now: () => number = Date.now,
): Promise<boolean> {
  for (const source of sources) {
    let after: string | null = null;
    for (;;) {
      const page = await source.page(db, after, pageSize);
      if (page.length === 0) break;
      const at = now();
      const [first, ...rest] = page.flatMap((d) => rebuildOps(db, d, at));
      if (first) await db.batch([first, ...rest]);
      after = page[page.length - 1]!.doc.id;
      if (!(await stillOurs(db, since))) return false;
      if (page.length < pageSize) break;
    }
  }
  if (!(await stillOurs(db, since))) return false;
  await db.batch([
    db.run(sql`ALTER TABLE search_fts RENAME TO search_fts_old`),
    db.run(sql`ALTER TABLE search_fts_next RENAME TO search_fts`),
    db.run(sql`ALTER TABLE search_fts_old RENAME TO search_fts_next`),
    db.run(sql`INSERT INTO search_fts_next (search_fts_next) VALUES ('delete-all')`),
    db.run(sql`DELETE FROM search_docs WHERE doc_key NOT IN (SELECT rowid FROM search_fts)`),
    db.run(sql`UPDATE search_state SET rebuilding_since = NULL, last_rebuild_at = ${now()} WHERE id = 1`),
  ]);
  return true;
}

/** Ends a failed rebuild so the next request may start another (the live index is untouched). */
export async function abandonRebuild(db: TenantDb, since: number): Promise<void> {
  await db.run(sql`UPDATE search_state SET rebuilding_since = NULL WHERE id = 1 AND rebuilding_since = ${since}`);
}
