import { and, count, eq, isNull, sql } from "drizzle-orm";
import type { TenantDb } from "../client";
import { comments, posts, searchDocs, searchState, type CommentRow, type PostRow, type SearchDocType } from "./schema";
import { indexText } from "./search-tokens";

/**
 * The search index's writes and queries (docs/content.md, "Search"). Writes are batch items, so
 * a post's or comment's index rows go into the same batch or transaction as the row itself.
 */

/** A document as the index holds it. */
export interface SearchDoc {
  type: SearchDocType;
  id: string;
  /** The post itself for a post; the post a comment belongs to for a comment. */
  postId: string;
  title: string;
  body: string;
  tags: string[];
}

/** bm25 weights of the FTS columns, in their order: title, body, tags. */
export const BM25_WEIGHTS = { title: 3.0, body: 1.0, tags: 2.0 } as const;

const keyOf = (type: SearchDocType, id: string) =>
  sql`(SELECT doc_key FROM search_docs WHERE doc_type = ${type} AND doc_id = ${id})`;

/** Batch items that take a document out of the index (no-ops when it is not there). */
export function unindexOps(db: TenantDb, type: SearchDocType, id: string) {
  return [
    db.run(sql`DELETE FROM search_fts WHERE rowid = ${keyOf(type, id)}`),
    db.run(sql`DELETE FROM search_fts_next WHERE rowid = ${keyOf(type, id)}`),
    db.run(sql`DELETE FROM search_docs WHERE doc_type = ${type} AND doc_id = ${id}`),
  ];
}

/**
 * Batch items that put a document into the index, replacing what it held for it. While a rebuild
 * runs (search_state.rebuilding_since set) the rows also go into the index being built, so no
 * write made during a rebuild is lost at the swap.
 */
export function indexOps(db: TenantDb, doc: SearchDoc, now = Date.now()) {
  const [title, body, tags] = [indexText(doc.title), indexText(doc.body), indexText(doc.tags.join(" "))];
  return [
    ...unindexOps(db, doc.type, doc.id),
    db.run(sql`INSERT INTO search_docs (doc_type, doc_id, post_id, indexed_at)
      VALUES (${doc.type}, ${doc.id}, ${doc.postId}, ${now})`),
    db.run(sql`INSERT INTO search_fts (rowid, title, body, tags)
      SELECT doc_key, ${title}, ${body}, ${tags} FROM search_docs WHERE doc_type = ${doc.type} AND doc_id = ${doc.id}`),
    db.run(sql`INSERT INTO search_fts_next (rowid, title, body, tags)
      SELECT d.doc_key, ${title}, ${body}, ${tags} FROM search_docs d JOIN search_state s ON s.id = 1
      WHERE d.doc_type = ${doc.type} AND d.doc_id = ${doc.id} AND s.rebuilding_since IS NOT NULL`),
  ];
}

/** Whether a post belongs in the index: published and not deleted (drafts are not indexed). */
export const postIndexable = (p: PostRow) => p.status === "published" && p.deletedAt === null;

/** A post as an index document; a VIP-only post's body is not indexed (a match would leak it). */
export const postDoc = (p: PostRow): SearchDoc => ({
  type: "post",
  id: p.id,
  postId: p.id,
  title: p.title,
  body: p.minVipLevel > 0 ? "" : p.body,
  tags: JSON.parse(p.tags) as string[],
});

/** The index batch items for a post as it now is: indexed when it should be, else taken out. */
export function postIndexOps(db: TenantDb, p: PostRow, now = Date.now()) {
  return postIndexable(p) ? indexOps(db, postDoc(p), now) : unindexOps(db, "post", p.id);
}

/** A comment as an index document (its text is the body; it belongs to its post). */
export const commentDoc = (c: CommentRow): SearchDoc => ({
  type: "comment",
  id: c.id,
  postId: c.postId,
  title: "",
  body: c.body,
  tags: [],
});

/** The index batch items for a comment as it now is: live and published comments are indexed. */
export function commentIndexOps(db: TenantDb, c: CommentRow, now = Date.now()) {
  return c.deletedAt === null && c.status === "published"
    ? indexOps(db, commentDoc(c), now)
    : unindexOps(db, "comment", c.id);
}

/** Batch items that take every comment of a (deleted) post out of the index. */
export function unindexPostCommentsOps(db: TenantDb, postId: string) {
  const keys = sql`(SELECT doc_key FROM search_docs WHERE post_id = ${postId} AND doc_type = 'comment')`;
  return [
    db.run(sql`DELETE FROM search_fts WHERE rowid IN ${keys}`),
    db.run(sql`DELETE FROM search_fts_next WHERE rowid IN ${keys}`),
    db.run(sql`DELETE FROM search_docs WHERE post_id = ${postId} AND doc_type = 'comment'`),
  ];
}

/**
 * The index's state for GET /v1/admin/search/status: documents indexed, and the rows that should
 * be (published, undeleted posts; live, published comments of undeleted posts).
 */
export async function searchStatus(db: TenantDb) {
  const [docs, postRows, commentRows, state] = await Promise.all([
    db.select({ n: count() }).from(searchDocs).get(),
    db
      .select({ n: count() })
      .from(posts)
      .where(and(eq(posts.status, "published"), isNull(posts.deletedAt)))
      .get(),
    db
      .select({ n: count() })
      .from(comments)
      .innerJoin(posts, eq(posts.id, comments.postId))
      .where(and(eq(comments.status, "published"), isNull(comments.deletedAt), isNull(posts.deletedAt)))
      .get(),
    db.select().from(searchState).where(eq(searchState.id, 1)).get(),
  ]);
  return {
    documents: docs?.n ?? 0,
    rows: (postRows?.n ?? 0) + (commentRows?.n ?? 0),
    rebuildingSince: state?.rebuildingSince ?? null,
    lastRebuildAt: state?.lastRebuildAt ?? null,
  };
}
