/**
 * Seeds one tenant's database file in place, with the `libsql` engine, while the local libSQL
 * server keeps it open (WAL: the server's idle connection does not block the writer):
 * `tsx bench/content/seed.ts --db <file> --posts N --seed S --viewer <user id>`.
 *
 * Writes, in transactions of {@link BATCH} posts with prepared statements: the authors (users +
 * profiles, active), the posts (published, visibility mostly public, time-ordered ids as
 * src/lib/ids.ts makes them), their post_tags rows, the viewer's follows of {@link FOLLOWED}
 * authors, and each post's search index rows exactly as src/db/tenant/search.ts `indexOps` writes
 * them (a search_docs row, then the search_fts row of that doc_key holding `indexText` of the
 * title, the body and the tags joined by spaces). Then measures the index's size with dbstat and
 * prints one line `seeded {json}`.
 */
import { statSync } from "node:fs";
import { parseArgs } from "node:util";
import Database from "libsql";
import { indexText } from "../../src/db/tenant/search-tokens";
import { newId } from "../../src/lib/ids";
import { Corpus, prng } from "./corpus";

export const AUTHORS = 10_000;
export const FOLLOWED = 500;
const BATCH = 20_000;
/** Posts are spread over the year before this instant, oldest first. */
const SPAN_MS = 365 * 86_400_000;

export interface SeedResult {
  posts: number;
  authors: number;
  followed: number;
  /** Bytes of the FTS5 shadow tables of search_fts (dbstat), of search_docs with its indexes, of the file. */
  ftsBytes: number;
  docsBytes: number;
  fileBytes: number;
  /** Posts carrying each planted term, as written. */
  planted: Record<string, number>;
  seconds: { total: number; index: number };
}

function visibilityOf(r: number): string {
  return r < 0.9 ? "public" : r < 0.97 ? "followers" : r < 0.99 ? "friends" : "private";
}

function seed(file: string, posts: number, seedValue: number, viewer: string): SeedResult {
  const t0 = performance.now();
  const db = new Database(file);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 10000");
  const rand = prng(seedValue * 31 + 7);
  const end = Date.now() - 60_000;
  const start = end - SPAN_MS;

  const authors: string[] = [];
  const insUser = db.prepare(
    "INSERT INTO users (id, username, password_hash, status, created_at, updated_at) VALUES (?, ?, 'seeded', 'active', ?, ?)",
  );
  const insProfile = db.prepare("INSERT INTO profiles (user_id, nickname, updated_at) VALUES (?, ?, ?)");
  db.exec("BEGIN");
  for (let a = 0; a < AUTHORS; a++) {
    const id = newId(start - 86_400_000 + a);
    authors.push(id);
    insUser.run(id, `author-${a}`, start, start);
    insProfile.run(id, `Author ${a}`, start);
  }
  // The viewer follows every 20th author: 500 of 10,000.
  const insFollow = db.prepare("INSERT INTO follows (follower_id, followee_id, created_at) VALUES (?, ?, ?)");
  const followed = authors.filter((_, a) => a % (AUTHORS / FOLLOWED) === 0);
  for (const f of followed) insFollow.run(viewer, f, start);
  db.exec("COMMIT");

  const insPost = db.prepare(
    `INSERT INTO posts (id, author_id, title, body, tags, media, visibility, status, created_at, updated_at, published_at)
     VALUES (?, ?, ?, ?, ?, '[]', ?, 'published', ?, ?, ?)`,
  );
  const insTag = db.prepare("INSERT INTO post_tags (tag, post_id, published_at) VALUES (?, ?, ?)");
  const insDoc = db.prepare(
    "INSERT INTO search_docs (doc_key, doc_type, doc_id, post_id, indexed_at) VALUES (?, 'post', ?, ?, ?)",
  );
  const insFts = db.prepare("INSERT INTO search_fts (rowid, title, body, tags) VALUES (?, ?, ?, ?)");
  const firstKey =
    ((db.prepare("SELECT coalesce(max(doc_key), 0) FROM search_docs").raw(true).get() as [number])[0] ?? 0) + 1;
  const corpus = new Corpus(posts, seedValue);
  const planted: Record<string, number> = Object.fromEntries(corpus.planted.map((p) => [p.text, 0]));
  let indexMs = 0;
  for (let from = 0; from < posts; from += BATCH) {
    db.exec("BEGIN");
    for (let i = from; i < Math.min(posts, from + BATCH); i++) {
      const at = start + Math.floor((i * SPAN_MS) / posts);
      const id = newId(at);
      const author = authors[Math.floor(rand() * AUTHORS)]!;
      const p = corpus.post(i);
      for (const k of Object.keys(planted)) if (p.title.includes(k) || p.body.includes(k)) planted[k]!++;
      insPost.run(id, author, p.title, p.body, JSON.stringify(p.tags), visibilityOf(rand()), at, at, at);
      for (const tag of p.tags) insTag.run(tag, id, at);
      const t = performance.now();
      const key = firstKey + i;
      insDoc.run(key, id, id, at);
      insFts.run(key, indexText(p.title), indexText(p.body), indexText(p.tags.join(" ")));
      indexMs += performance.now() - t;
    }
    db.exec("COMMIT");
    process.stderr.write(`seed ${file}: ${Math.min(posts, from + BATCH)}/${posts}\n`);
  }
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const bytes = (where: string) =>
    (db.prepare(`SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE ${where}`).raw(true).get() as [number])[0];
  const ftsBytes = bytes("name LIKE 'search_fts_%' AND name NOT LIKE 'search_fts_next%'");
  const docsBytes = bytes(
    "name = 'search_docs' OR name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'search_docs')",
  );
  db.close();
  return {
    posts,
    authors: AUTHORS,
    followed: followed.length,
    ftsBytes,
    docsBytes,
    fileBytes: statSync(file).size,
    planted,
    seconds: { total: (performance.now() - t0) / 1000, index: indexMs / 1000 },
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      db: { type: "string" },
      posts: { type: "string" },
      seed: { type: "string", default: "1" },
      viewer: { type: "string" },
    },
    strict: true,
  });
  if (!values.db || !values.posts || !values.viewer) throw new Error("--db, --posts and --viewer are required");
  const out = seed(values.db, Number(values.posts), Number(values.seed), values.viewer);
  process.stdout.write(`seeded ${JSON.stringify(out)}\n`);
}

main();
