import { and, asc, count, desc, eq, gte, isNull, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { TenantDb } from "../client";
import {
  comments,
  posts,
  searchDocs,
  searchFts,
  searchState,
  users,
  type CommentRow,
  type PostRow,
  type SearchDocType,
} from "./schema";
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
const RANK = sql<number>`bm25(search_fts, ${sql.raw(String(BM25_WEIGHTS.title))}, ${sql.raw(
  String(BM25_WEIGHTS.body),
)}, ${sql.raw(String(BM25_WEIGHTS.tags))})`;

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

/** A post as an index document. */
export const postDoc = (p: PostRow): SearchDoc => ({
  type: "post",
  id: p.id,
  postId: p.id,
  title: p.title,
  body: p.body,
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
 * How many documents match, counted up to `cap + 1` only (a LIMIT inside, never a full count):
 * the query-too-broad guard.
 */
export async function matchCount(db: TenantDb, match: string, cap: number): Promise<number> {
  const row = await db.get<{ n: number }>(
    sql`SELECT count(*) AS n FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ${match} LIMIT ${cap + 1})`,
  );
  return Number(row?.n ?? 0);
}

/** A post search: the MATCH expression, the SQL filters, the order and where the page starts. */
export interface PostSearch {
  match: string;
  viewer: string;
  authorId?: string | undefined;
  tag?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  sort: "relevance" | "recent";
  limit: number;
  /** Relevance: rows to skip. */
  offset?: number;
  /** Recent: the (published_at, id) of the last row of the previous page. */
  before?: [number, string] | undefined;
}

export interface PostHit {
  post: PostRow;
  /** bm25 (lower is better, as SQLite reports it). */
  rank: number;
}

/**
 * Candidate posts for a search, in order. Filtered in SQL: the post's own index row, published
 * and not deleted, the author active, no block either way (the blocks mirror), private posts
 * only the author's own, and the caller's filters. Followers/friends visibility is the caller's
 * (visibility.ts) after this read.
 */
export async function searchPostRows(db: TenantDb, q: PostSearch): Promise<PostHit[]> {
  const conds: (SQL | undefined)[] = [
    sql`search_fts MATCH ${q.match}`,
    eq(searchDocs.docType, "post"),
    eq(posts.status, "published"),
    isNull(posts.deletedAt),
    eq(users.status, "active"),
    or(eq(posts.authorId, q.viewer), ne(posts.visibility, "private")),
    noBlock(q.viewer, posts.authorId),
    q.authorId === undefined ? undefined : eq(posts.authorId, q.authorId),
    q.tag === undefined
      ? undefined
      : sql`EXISTS (SELECT 1 FROM post_tags WHERE tag = ${q.tag} AND post_id = ${posts.id})`,
    q.from === undefined ? undefined : gte(posts.publishedAt, q.from),
    q.to === undefined ? undefined : lt(posts.publishedAt, q.to),
  ];
  if (q.sort === "recent" && q.before) {
    const [at, id] = q.before;
    conds.push(or(lt(posts.publishedAt, at), and(eq(posts.publishedAt, at), lt(posts.id, id))));
  }
  const base = db
    .select({ post: posts, rank: RANK })
    .from(searchFts)
    .innerJoin(searchDocs, eq(searchDocs.docKey, searchFts.rowid))
    .innerJoin(posts, eq(posts.id, searchDocs.docId))
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(and(...conds));
  const ordered =
    q.sort === "recent"
      ? base.orderBy(desc(posts.publishedAt), desc(posts.id))
      : base.orderBy(asc(RANK), asc(posts.id));
  return ordered
    .limit(q.limit)
    .offset(q.sort === "relevance" ? (q.offset ?? 0) : 0)
    .all();
}

/** No block either way between the viewer and a user (the tenant's mirror of the hubs' blocks). */
const noBlock = (viewer: string, user: SQL | typeof posts.authorId) =>
  sql`NOT EXISTS (SELECT 1 FROM blocks WHERE (blocker_id = ${user} AND blocked_id = ${viewer})
      OR (blocker_id = ${viewer} AND blocked_id = ${user}))`;

export interface CommentHit {
  comment: CommentRow;
  post: PostRow;
  rank: number;
}

/**
 * Candidate comments for a search, in order: live, published comments whose post is published,
 * undeleted, by an active author and not someone else's private post, with no block either way
 * between the viewer and the post's or the comment's author. `authorId` filters the comment's
 * author, `tag` the post's tags, `from`/`to` and the recent order the comment's time. The post's
 * followers/friends visibility is the caller's, as for posts.
 */
export async function searchCommentRows(db: TenantDb, q: PostSearch): Promise<CommentHit[]> {
  const conds: (SQL | undefined)[] = [
    sql`search_fts MATCH ${q.match}`,
    eq(searchDocs.docType, "comment"),
    isNull(comments.deletedAt),
    eq(comments.status, "published"),
    eq(posts.status, "published"),
    isNull(posts.deletedAt),
    eq(users.status, "active"),
    or(eq(posts.authorId, q.viewer), ne(posts.visibility, "private")),
    noBlock(q.viewer, posts.authorId),
    noBlock(q.viewer, sql`${comments.authorId}`),
    sql`EXISTS (SELECT 1 FROM users ca WHERE ca.id = ${comments.authorId} AND ca.status = 'active')`,
    q.authorId === undefined ? undefined : eq(comments.authorId, q.authorId),
    q.tag === undefined
      ? undefined
      : sql`EXISTS (SELECT 1 FROM post_tags WHERE tag = ${q.tag} AND post_id = ${posts.id})`,
    q.from === undefined ? undefined : gte(comments.createdAt, q.from),
    q.to === undefined ? undefined : lt(comments.createdAt, q.to),
  ];
  if (q.sort === "recent" && q.before) {
    const [at, id] = q.before;
    conds.push(or(lt(comments.createdAt, at), and(eq(comments.createdAt, at), lt(comments.id, id))));
  }
  const base = db
    .select({ comment: comments, post: posts, rank: RANK })
    .from(searchFts)
    .innerJoin(searchDocs, eq(searchDocs.docKey, searchFts.rowid))
    .innerJoin(comments, eq(comments.id, searchDocs.docId))
    .innerJoin(posts, eq(posts.id, comments.postId))
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(and(...conds));
  const ordered =
    q.sort === "recent"
      ? base.orderBy(desc(comments.createdAt), desc(comments.id))
      : base.orderBy(asc(RANK), asc(comments.id));
  return ordered
    .limit(q.limit)
    .offset(q.sort === "relevance" ? (q.offset ?? 0) : 0)
    .all();
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
