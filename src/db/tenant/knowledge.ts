import { sql } from "drizzle-orm";
import { countTokens, foldedTerms } from "../../lib/ai/tokens";
import type { TenantDb } from "../client";
import { forgetEmbeddingOp, nearest } from "./embeddings";
import { fold, indexText, matchExpression, termsOf } from "./search-tokens";

/**
 * The tenant's knowledge base (migrations/tenant/0029, docs/ai.md): articles and their FTS rows,
 * written in one batch, and retrieval for the chat. Deleted articles keep their row but leave
 * the index in the batch that deletes them, so retrieval never finds them again.
 */

export interface Article {
  id: string;
  title: string;
  body: string;
  tags: string[];
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

interface ArticleRow {
  id: string;
  title: string;
  body: string;
  tags: string;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

const COLUMNS = sql`id, title, body, tags, created_by AS createdBy, created_at AS createdAt, updated_at AS updatedAt`;
const toArticle = (r: ArticleRow): Article => ({ ...r, tags: JSON.parse(r.tags) as string[] });

/** bm25 weights of kb_fts's columns, in order: title, body, tags (as the posts' search). */
const RANK = sql`bm25(kb_fts, 3.0, 1.0, 2.0)`;

/** Batch items that put an article's tokens into the index, replacing what it held. */
function indexOps(db: TenantDb, a: Pick<Article, "id" | "title" | "body" | "tags">) {
  const key = sql`(SELECT doc_key FROM kb_articles WHERE id = ${a.id})`;
  return [
    db.run(sql`DELETE FROM kb_fts WHERE rowid = ${key}`),
    db.run(sql`INSERT INTO kb_fts (rowid, title, body, tags)
      SELECT doc_key, ${indexText(a.title)}, ${indexText(a.body)}, ${indexText(a.tags.join(" "))}
      FROM kb_articles WHERE id = ${a.id} AND deleted_at IS NULL`),
  ];
}

/** Stores a new article and indexes it, in one batch. */
export async function insertArticle(db: TenantDb, a: Article): Promise<void> {
  await db.batch([
    db.run(sql`INSERT INTO kb_articles (id, title, body, tags, created_by, created_at, updated_at)
      VALUES (${a.id}, ${a.title}, ${a.body}, ${JSON.stringify(a.tags)}, ${a.createdBy}, ${a.createdAt}, ${a.updatedAt})`),
    ...indexOps(db, a),
  ]);
}

/** A live (not deleted) article. */
export async function findArticle(db: TenantDb, id: string): Promise<Article | undefined> {
  // all(), not get(): drizzle's get() of raw SQL fails on no row.
  const [row] = await db.all<ArticleRow>(
    sql`SELECT ${COLUMNS} FROM kb_articles WHERE id = ${id} AND deleted_at IS NULL`,
  );
  return row ? toArticle(row) : undefined;
}

/** The live articles among `ids`, in one read. */
export async function articlesByIds(db: TenantDb, ids: string[]): Promise<Article[]> {
  if (!ids.length) return [];
  const rows = await db.all<ArticleRow>(sql`SELECT ${COLUMNS} FROM kb_articles
    WHERE id IN (SELECT value FROM json_each(${JSON.stringify(ids)})) AND deleted_at IS NULL`);
  return rows.map(toArticle);
}

/** Live articles, newest first, keyset-paged on (created_at, id). */
export async function articlesPage(db: TenantDb, limit: number, before?: [number, string]): Promise<Article[]> {
  const after = before
    ? sql`AND (created_at < ${before[0]} OR (created_at = ${before[0]} AND id < ${before[1]}))`
    : sql``;
  const rows = await db.all<ArticleRow>(sql`SELECT ${COLUMNS} FROM kb_articles
    WHERE deleted_at IS NULL ${after} ORDER BY created_at DESC, id DESC LIMIT ${limit}`);
  return rows.map(toArticle);
}

/** Indexes every live article again (a restored database, whose FTS rows were not carried). */
export async function reindexArticles(db: TenantDb): Promise<number> {
  let n = 0;
  for (let before: [number, string] | undefined; ; ) {
    const page = await articlesPage(db, 100, before);
    const [first, ...rest] = page.flatMap((a) => indexOps(db, a));
    if (first) await db.batch([first, ...rest]);
    n += page.length;
    if (page.length < 100) return n;
    const last = page[page.length - 1]!;
    before = [last.createdAt, last.id];
  }
}

/**
 * Replaces a live article's fields and its index rows in one batch (a transaction: the row and
 * its tokens always agree; of two concurrent edits the later batch wins whole).
 */
export async function updateArticle(
  db: TenantDb,
  id: string,
  patch: Partial<Pick<Article, "title" | "body" | "tags">>,
  now: number,
): Promise<Article | undefined> {
  const cur = await findArticle(db, id);
  if (!cur) return undefined;
  const next: Article = { ...cur, ...patch, updatedAt: Math.max(now, cur.updatedAt) };
  const [updated] = await db.batch([
    db.run(sql`UPDATE kb_articles SET title = ${next.title}, body = ${next.body}, tags = ${JSON.stringify(next.tags)},
      updated_at = ${next.updatedAt} WHERE id = ${id} AND deleted_at IS NULL`),
    ...indexOps(db, next),
  ]);
  // Deleted meanwhile: nothing was updated, and a deleted row is never indexed.
  return updated.rowsAffected > 0 ? next : undefined;
}

/** Marks a live article deleted and takes it out of the index at once; false when there was none. */
export async function deleteArticle(db: TenantDb, id: string, now: number): Promise<boolean> {
  const [deleted] = await db.batch([
    db.run(
      sql`UPDATE kb_articles SET deleted_at = ${now}, updated_at = ${now} WHERE id = ${id} AND deleted_at IS NULL`,
    ),
    db.run(sql`DELETE FROM kb_fts WHERE rowid = (SELECT doc_key FROM kb_articles WHERE id = ${id})`),
    forgetEmbeddingOp(db, "article", id),
  ]);
  return deleted.rowsAffected > 0;
}

/**
 * Words too common to say what a question is about. A question made only of them matches
 * nothing, so it is unanswerable rather than answered from whatever article says "how".
 */
const STOP_WORDS = new Set(
  (
    "a an and are be by can could do does for from get has have how i if in is it its me my of on or our so " +
    "should that the their there this to was we what when where which who why will with would you your " +
    "我 我的 你 你们 如何 怎么 怎样 什么 为什 可以 是否 一下 请问 吗"
  ).split(" "),
);

/** At most this many distinct terms of a question are looked up. */
const MAX_TERMS = 16;

/**
 * The FTS expression of a question: its distinct terms, stop words aside, ORed (bm25 ranks
 * articles sharing more and rarer terms first). A CJK run contributes each of its bigrams (a
 * question rarely repeats an article's wording), a word its prefix query; every piece is built
 * by matchExpression, so no user syntax reaches MATCH. Null when nothing is left.
 */
export function questionMatch(question: string): string | null {
  const pieces = new Set<string>();
  for (const t of termsOf(fold(question).chars)) {
    const cps = [...t.text];
    const parts = t.kind === "cjk" && cps.length > 2 ? cps.slice(0, -1).map((c, i) => c + cps[i + 1]) : [t.text];
    for (const text of parts) {
      if (STOP_WORDS.has(text)) continue;
      const expr = matchExpression([{ kind: t.kind, text, at: 0 }]);
      if (expr) pieces.add(expr);
    }
  }
  return pieces.size ? [...pieces].slice(0, MAX_TERMS).join(" OR ") : null;
}

/** A retrieved article: the passages of it the question concerns, and its retrieval score. */
export interface Retrieved {
  id: string;
  title: string;
  /** The title and the best paragraphs, in article order, at most PASSAGE_TOKENS tokens. */
  text: string;
  /** Reciprocal rank, 1 / (60 + rank): compared with `ai.chat.minScore`. */
  score: number;
}

/** How much of an article goes into the prompt. */
export const PASSAGE_TOKENS = 400;

/**
 * The paragraphs of a body worth quoting for a question: those sharing most terms with it, kept
 * in article order, up to `budget` tokens; the opening paragraphs when none shares a term.
 */
export function passagesOf(body: string, question: string, budget = PASSAGE_TOKENS): string {
  const wanted = new Set(foldedTerms(question));
  const paragraphs = body
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const scored = paragraphs.map((text, at) => ({
    text,
    at,
    hits: new Set(foldedTerms(text).filter((t) => wanted.has(t))).size,
    tokens: countTokens(text),
  }));
  const chosen: typeof scored = [];
  let used = 0;
  for (const p of [...scored].sort((a, b) => b.hits - a.hits || a.at - b.at)) {
    if (used + p.tokens > budget && chosen.length > 0) continue;
    chosen.push(p);
    used += p.tokens;
  }
  return chosen
    .sort((a, b) => a.at - b.at)
    .map((p) => p.text)
    .join("\n\n");
}

/** The question's vector, for the vector half of retrieval (vectors on). */
export interface Near {
  v: Float32Array;
  /** The embedding space in use: vectors of other models are ignored. */
  model: string;
  /** Articles less similar than this are not retrieved by their vector. */
  minSimilarity: number;
}

/** Each retriever proposes this many articles before fusion. */
const CANDIDATES = 8;
/** Reciprocal-rank fusion's constant: a rank r scores 1 / (RRF_K + r). */
const RRF_K = 60;

/**
 * The best `limit` live articles for a question: bm25's best CANDIDATES (none when the question
 * has no term worth looking up) and, with `near`, the CANDIDATES nearest articles by vector at
 * or over `near.minSimilarity`, fused by reciprocal rank (Σ 1 / (60 + rank) over the lists an
 * article is in), best first.
 */
export async function retrieve(db: TenantDb, question: string, limit = 4, near?: Near): Promise<Retrieved[]> {
  const match = questionMatch(question);
  const [fts, vec] = await Promise.all([
    match
      ? db.all<{ id: string }>(sql`SELECT a.id FROM (
          SELECT rowid AS key, ${RANK} AS rank FROM kb_fts WHERE kb_fts MATCH ${match} ORDER BY rank LIMIT ${CANDIDATES}
        ) r JOIN kb_articles a ON a.doc_key = r.key AND a.deleted_at IS NULL ORDER BY r.rank, a.id`)
      : [],
    near
      ? nearest(db, "article", near.v, CANDIDATES, near.model).then((l) =>
          l.filter((n) => n.similarity >= near.minSimilarity),
        )
      : [],
  ]);
  const fused = new Map<string, number>();
  for (const list of [fts, vec]) list.forEach((r, i) => fused.set(r.id, (fused.get(r.id) ?? 0) + 1 / (RRF_K + i + 1)));
  const best = [...fused].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
  if (!best.length) return [];
  const rows = await db.all<{ id: string; title: string; body: string }>(sql`SELECT id, title, body FROM kb_articles
    WHERE id IN (SELECT value FROM json_each(${JSON.stringify(best.map(([id]) => id))})) AND deleted_at IS NULL`);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return best.flatMap(([id, score]) => {
    const r = byId.get(id);
    return r ? [{ id, title: r.title, text: `${r.title}\n\n${passagesOf(r.body, question)}`, score }] : [];
  });
}
