import { type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";

/**
 * Posts' and articles' embeddings (migrations/tenant/0031, docs/ai.md, Vectors): written with
 * `vector32(json)`, searched with `vector_top_k` over each table's vector index. Every query
 * names the model in use and ignores vectors of any other, so two models' spaces never mix.
 * Similarity is cosine similarity, `1 − vector_distance_cos` (vectors are unit length).
 *
 * Never `DELETE FROM` these tables without a WHERE: SQLite then truncates the table without
 * visiting its rows, the vector index keeps their entries, and the next insert that reuses a
 * rowid fails ("vector index(insert): failed to insert shadow row"). Any WHERE deletes row by row.
 */

export type EmbeddingKind = "post" | "article";

const TABLES: Record<EmbeddingKind, { table: SQL; key: SQL; index: string }> = {
  post: { table: sql.raw("post_embeddings"), key: sql.raw("post_id"), index: "post_embeddings_vec" },
  article: { table: sql.raw("kb_embeddings"), key: sql.raw("article_id"), index: "kb_embeddings_vec" },
};

const json = (v: unknown) => JSON.stringify(v);
/** A vector as `vector32` reads it: a JSON array of numbers. */
const vectorText = (v: Float32Array): string => json(Array.from(v));

/**
 * Stores a source's vector, replacing what it held, unless the stored one was made from a newer
 * version of the source by the same model (a late redelivery never rolls a vector back).
 */
export function putEmbeddingOp(
  db: TenantDb,
  kind: EmbeddingKind,
  id: string,
  model: string,
  sourceAt: number,
  v: Float32Array,
): BatchItem<"sqlite"> {
  const { table, key } = TABLES[kind];
  return db.run(sql`INSERT INTO ${table} (${key}, model, source_at, embedding)
    VALUES (${id}, ${model}, ${sourceAt}, vector32(${vectorText(v)}))
    ON CONFLICT (${key}) DO UPDATE SET model = excluded.model, source_at = excluded.source_at, embedding = excluded.embedding
    WHERE excluded.model <> ${table}.model OR excluded.source_at >= ${table}.source_at`);
}

/** Stores several sources' vectors in one batch (see putEmbeddingOp). */
export async function storeEmbeddings(
  db: TenantDb,
  kind: EmbeddingKind,
  model: string,
  rows: { id: string; sourceAt: number; v: Float32Array }[],
): Promise<void> {
  const ops = rows.map((r) => putEmbeddingOp(db, kind, r.id, model, r.sourceAt, r.v));
  if (ops.length) await db.batch(ops as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}

/** Drops a source's vector (it was deleted). */
export function forgetEmbeddingOp(db: TenantDb, kind: EmbeddingKind, id: string): BatchItem<"sqlite"> {
  const { table, key } = TABLES[kind];
  return db.run(sql`DELETE FROM ${table} WHERE ${key} = ${id}`);
}

/** The source version a stored vector of `model` was made from (null: none of that model). */
export async function embeddedAt(db: TenantDb, kind: EmbeddingKind, id: string, model: string): Promise<number | null> {
  const { table, key } = TABLES[kind];
  const [row] = await db.all<{ at: number }>(
    sql`SELECT source_at AS at FROM ${table} WHERE ${key} = ${id} AND model = ${model}`,
  );
  return row?.at ?? null;
}

/** The stored vectors of `model` among `ids`. */
export async function vectorsOf(
  db: TenantDb,
  kind: EmbeddingKind,
  ids: string[],
  model: string,
): Promise<Map<string, Float32Array>> {
  if (!ids.length) return new Map();
  const { table, key } = TABLES[kind];
  const rows = await db.all<{ id: string; v: string }>(sql`SELECT ${key} AS id, vector_extract(embedding) AS v
    FROM ${table} WHERE ${key} IN (SELECT value FROM json_each(${json(ids)})) AND model = ${model}`);
  return new Map(rows.map((r) => [r.id, Float32Array.from(JSON.parse(r.v) as number[])]));
}

/** A source near a query vector. */
export interface Near {
  id: string;
  similarity: number;
}

/**
 * The `k` sources nearest `q` by the vector index, nearest first, with their similarity; only
 * vectors of `model` (an index entry of another model takes a slot and is dropped).
 */
export async function nearest(
  db: TenantDb,
  kind: EmbeddingKind,
  q: Float32Array,
  k: number,
  model: string,
): Promise<Near[]> {
  const { table, key, index } = TABLES[kind];
  const v = vectorText(q);
  return db.all<Near>(sql`SELECT e.${key} AS id, 1.0 - vector_distance_cos(e.embedding, vector32(${v})) AS similarity
    FROM vector_top_k(${index}, vector32(${v}), ${k}) t JOIN ${table} e ON e.rowid = t.id
    WHERE e.model = ${model} ORDER BY similarity DESC, id DESC`);
}

/** The similarity of each of `ids` that has a vector of `model` to `q`. */
export async function similarities(
  db: TenantDb,
  kind: EmbeddingKind,
  q: Float32Array,
  ids: string[],
  model: string,
): Promise<Map<string, number>> {
  if (!ids.length) return new Map();
  const { table, key } = TABLES[kind];
  const rows =
    await db.all<Near>(sql`SELECT ${key} AS id, 1.0 - vector_distance_cos(embedding, vector32(${vectorText(q)})) AS similarity
    FROM ${table} WHERE ${key} IN (SELECT value FROM json_each(${json(ids)})) AND model = ${model}`);
  return new Map(rows.map((r) => [r.id, r.similarity]));
}

/**
 * Live articles without a current vector of `model` (none, another model's, or older than the
 * article), oldest change first; deleted articles' vectors are dropped by their delete.
 */
export async function staleArticles(db: TenantDb, model: string, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`SELECT a.id AS id FROM kb_articles a
    LEFT JOIN kb_embeddings e ON e.article_id = a.id AND e.model = ${model}
    WHERE a.deleted_at IS NULL AND (e.id IS NULL OR e.source_at < a.updated_at)
    ORDER BY a.updated_at, a.id LIMIT ${limit}`);
  return rows.map((r) => r.id);
}

/** Arithmetic on unit vectors for query vectors made of several stored ones. */
export function weightedMean(parts: { v: Float32Array; w: number }[]): Float32Array | null {
  if (!parts.length) return null;
  const out = new Float32Array(parts[0]!.v.length);
  for (const { v, w } of parts) for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + w * (v[i] ?? 0);
  let sum = 0;
  for (const x of out) sum += x * x;
  if (!(sum > 0)) return null;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) * scale;
  return out;
}

/**
 * Live posts published since `since` without a current vector of `model` (none, another
 * model's, or older than the post's last edit), newest first.
 */
export async function stalePosts(db: TenantDb, model: string, since: number, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`SELECT p.id AS id FROM posts p
    LEFT JOIN post_embeddings e ON e.post_id = p.id AND e.model = ${model}
    WHERE p.status = 'published' AND p.deleted_at IS NULL AND p.published_at >= ${since}
      AND (e.id IS NULL OR e.source_at < p.updated_at)
    ORDER BY p.published_at DESC, p.id DESC LIMIT ${limit}`);
  return rows.map((r) => r.id);
}
