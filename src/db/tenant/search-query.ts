import { and, asc, desc, eq, gte, isNull, lt, or, sql } from "drizzle-orm";
import { before } from "./keyset";
import type { TenantDb } from "../client";
import { shownAuthor, type Circle, notBlocked, visibleTo } from "./visible";
import { comments, posts, postTags, searchDocs, searchFts, type CommentRow, type PostRow } from "./schema";
import { BM25_WEIGHTS } from "./search";

/**
 * The search index's queries (docs/content.md, "Search"). Relevance pages read in two steps in one
 * statement: FTS5 ranks its matches alone (bm25, no join) and keeps the best `pool`; only those
 * are joined to their rows and filtered by visibility (`visibleTo`, the feeds' rules) and the
 * caller's filters. The caller widens the pool when filtering left the page short and more
 * matches exist.
 */

const RANK = sql<number>`bm25(search_fts, ${sql.raw(String(BM25_WEIGHTS.title))}, ${sql.raw(
  String(BM25_WEIGHTS.body),
)}, ${sql.raw(String(BM25_WEIGHTS.tags))})`;

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

/** A search: the MATCH expression, the viewer's circle, the filters, the order and the page. */
export interface Search {
  match: string;
  circle: Circle;
  authorId?: string | undefined;
  tag?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  sort: "relevance" | "recent";
  limit: number;
  /** Relevance: rows to skip, and how many of the best-ranked matches to consider. */
  offset?: number;
  pool?: number;
  /** Recent: the (time, id) of the last row of the previous page. */
  before?: [number, string] | undefined;
}

export interface PostHit {
  post: PostRow;
  /** bm25 (lower is better, as SQLite reports it). */
  rank: number;
}

export interface CommentHit {
  comment: CommentRow;
  post: PostRow;
  rank: number;
}

/** The best `pool` matches by bm25, ranked by FTS5 alone (a CTE SQLite materialises before joining). */
function ranked(db: TenantDb, match: string, pool: number) {
  return db.$with("ranked").as(
    db
      .select({ key: searchFts.rowid, rank: sql<number>`${RANK}`.as("rank") })
      .from(searchFts)
      .where(sql`search_fts MATCH ${match}`)
      .orderBy(RANK)
      .limit(pool),
  );
}

/**
 * The document type, as a filter the planner cannot use as an index (the unary `+`): with it usable,
 * SQLite starts from every `search_docs` row of the type (a million) instead of the ranked pool's
 * few dozen. EXPLAIN QUERY PLAN on the benchmark's tenants: 4.6 / 6.2 / 33 ms instead of seconds.
 */
const docType = (type: "post" | "comment") => sql`+${searchDocs.docType} = ${type}`;

const tagged = (tag: string | undefined) =>
  tag === undefined
    ? undefined
    : sql`EXISTS (SELECT 1 FROM ${postTags} WHERE ${postTags.tag} = ${tag} AND ${postTags.postId} = ${posts.id})`;

/**
 * Posts matching a search that the viewer may see (visibleTo: published, undeleted, active
 * author, no block either way, and the visibility rules), with the caller's filters; relevance
 * (bm25 within the pool, then id) or recent (newest publication first, keyset).
 */
export async function searchPostRows(db: TenantDb, q: Search): Promise<PostHit[]> {
  const filters = and(
    docType("post"),
    visibleTo(q.circle),
    q.authorId === undefined ? undefined : eq(posts.authorId, q.authorId),
    tagged(q.tag),
    q.from === undefined ? undefined : gte(posts.publishedAt, q.from),
    q.to === undefined ? undefined : lt(posts.publishedAt, q.to),
  );
  if (q.sort === "recent") {
    return db
      .select({ post: posts, rank: sql<number>`0` })
      .from(searchFts)
      .innerJoin(searchDocs, eq(searchDocs.docKey, searchFts.rowid))
      .innerJoin(posts, eq(posts.id, searchDocs.docId))
      .where(and(sql`search_fts MATCH ${q.match}`, filters, before(posts.publishedAt, posts.id, q.before)))
      .orderBy(desc(posts.publishedAt), desc(posts.id))
      .limit(q.limit)
      .all();
  }
  const top = ranked(db, q.match, q.pool ?? q.limit);
  return db
    .with(top)
    .select({ post: posts, rank: top.rank })
    .from(top)
    .innerJoin(searchDocs, eq(searchDocs.docKey, top.key))
    .innerJoin(posts, eq(posts.id, searchDocs.docId))
    .where(filters)
    .orderBy(asc(top.rank), asc(posts.id))
    .limit(q.limit)
    .offset(q.offset ?? 0)
    .all();
}

/**
 * Comments matching a search, on posts the viewer may see (visibleTo on the post), live and
 * published, by an active author with no block either way. `authorId` filters the comment's
 * author, `tag` the post's tags, `from`/`to` and the recent order the comment's time.
 */
export async function searchCommentRows(db: TenantDb, q: Search): Promise<CommentHit[]> {
  const filters = and(
    docType("comment"),
    isNull(comments.deletedAt),
    eq(comments.status, "published"),
    visibleTo(q.circle),
    // Comments of VIP-only posts are not searched: a hit would show what the lock hides.
    eq(posts.minVipLevel, 0),
    notBlocked(comments.authorId, q.circle),
    shownAuthor(comments.authorId),
    q.authorId === undefined ? undefined : eq(comments.authorId, q.authorId),
    tagged(q.tag),
    q.from === undefined ? undefined : gte(comments.createdAt, q.from),
    q.to === undefined ? undefined : lt(comments.createdAt, q.to),
  );
  if (q.sort === "recent") {
    return db
      .select({ comment: comments, post: posts, rank: sql<number>`0` })
      .from(searchFts)
      .innerJoin(searchDocs, eq(searchDocs.docKey, searchFts.rowid))
      .innerJoin(comments, eq(comments.id, searchDocs.docId))
      .innerJoin(posts, eq(posts.id, comments.postId))
      .where(and(sql`search_fts MATCH ${q.match}`, filters, before(comments.createdAt, comments.id, q.before)))
      .orderBy(desc(comments.createdAt), desc(comments.id))
      .limit(q.limit)
      .all();
  }
  const top = ranked(db, q.match, q.pool ?? q.limit);
  return db
    .with(top)
    .select({ comment: comments, post: posts, rank: top.rank })
    .from(top)
    .innerJoin(searchDocs, eq(searchDocs.docKey, top.key))
    .innerJoin(comments, eq(comments.id, searchDocs.docId))
    .innerJoin(posts, eq(posts.id, comments.postId))
    .where(filters)
    .orderBy(asc(top.rank), asc(comments.id))
    .limit(q.limit)
    .offset(q.offset ?? 0)
    .all();
}
