import { and, inArray, ne, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";
import { posts } from "./schema";
import { type Circle, visibleTo } from "./visible";

/** How much each kind of interaction says about a user's interest in a post (the max of kinds counts). */
export const REC_WEIGHTS = { view: 1, like: 3, comment: 4, bookmark: 5 } as const;
/** Pairs are counted between a post and this many of the user's most recent other interactions. */
export const PAIR_WINDOW = 100;
/** Candidates are seeded from this many of the user's most recent interactions. */
export const SEED_WINDOW = 50;
/** Visibility is applied after ranking, over at most this many of the best ids. */
export const RANKED_CAP = 200;

const json = (v: unknown) => JSON.stringify(v);

/**
 * The statements that raise a user's interaction with a post to weight `w` (nothing when the
 * stored weight is already as high), to run in one transaction (after the consumer's marker).
 * With `o` the stored weight (0 if none) and Q the user's `PAIR_WINDOW` most recent other
 * interactions, read in the same transaction before the upsert: for each q in Q,
 * `co(p,q) += min(w, w_q) − min(o, w_q)` in both directions, and `total(p) += w − o`. Each
 * user's contribution to co(p,q) is then min(w(u,p), w(u,q)) whatever the order the events
 * came in, since each step adds exactly the change of that minimum.
 */
export function interactionOps(
  db: TenantDb,
  userId: string,
  postId: string,
  w: number,
  at: number,
): BatchItem<"sqlite">[] {
  const old = sql`(SELECT coalesce((SELECT weight FROM rec_interactions WHERE user_id = ${userId} AND post_id = ${postId}), 0) AS w)`;
  const window = sql`(SELECT post_id, weight FROM rec_interactions WHERE user_id = ${userId} AND post_id <> ${postId}
    ORDER BY updated_at DESC, post_id DESC LIMIT ${PAIR_WINDOW})`;
  const delta = sql`min(${w}, q.weight) - min(o.w, q.weight)`;
  // `WHERE` in the SELECT also keeps SQLite from reading ON CONFLICT as a join constraint.
  const pairs = (from: ReturnType<typeof sql>, to: ReturnType<typeof sql>) =>
    db.run(sql`INSERT INTO rec_item_pairs (post_id, other_id, co)
      SELECT ${from}, ${to}, ${delta} FROM ${window} q, ${old} o WHERE ${w} > o.w AND ${delta} > 0
      ON CONFLICT (post_id, other_id) DO UPDATE SET co = co + excluded.co`);
  return [
    pairs(sql`${postId}`, sql`q.post_id`),
    pairs(sql`q.post_id`, sql`${postId}`),
    db.run(sql`INSERT INTO rec_item_norms (post_id, total) SELECT ${postId}, ${w} - o.w FROM ${old} o WHERE ${w} > o.w
      ON CONFLICT (post_id) DO UPDATE SET total = total + excluded.total`),
    // Last: the reads above see the weight before this event. A lower weight only refreshes recency.
    db.run(sql`INSERT INTO rec_interactions (user_id, post_id, weight, updated_at) VALUES (${userId}, ${postId}, ${w}, ${at})
      ON CONFLICT (user_id, post_id) DO UPDATE SET weight = max(weight, excluded.weight),
      updated_at = max(updated_at, excluded.updated_at)`),
  ];
}

/** A friendship mirrored both ways (on) or forgotten both ways (off), for friends of friends. */
export function friendEdgeOps(db: TenantDb, a: string, b: string, on: boolean): BatchItem<"sqlite">[] {
  return on
    ? [db.run(sql`INSERT OR IGNORE INTO rec_friend_edges (user_id, friend_id) VALUES (${a}, ${b}), (${b}, ${a})`)]
    : [
        db.run(sql`DELETE FROM rec_friend_edges WHERE (user_id = ${a} AND friend_id = ${b})
          OR (user_id = ${b} AND friend_id = ${a})`),
      ];
}

/** One of the user's seed interactions with its post's norm. */
export interface Seed {
  postId: string;
  weight: number;
  total: number;
}

/** The user's `SEED_WINDOW` most recent interactions, with their posts' totals. */
export async function seedsOf(db: TenantDb, userId: string): Promise<Seed[]> {
  return db.all<Seed>(sql`SELECT i.post_id AS postId, i.weight AS weight, coalesce(n.total, i.weight) AS total
    FROM rec_interactions i LEFT JOIN rec_item_norms n ON n.post_id = i.post_id
    WHERE i.user_id = ${userId} ORDER BY i.updated_at DESC, i.post_id DESC LIMIT ${SEED_WINDOW}`);
}

/** A ranked candidate: `raw` over `sqrt(total)` is its score. */
export interface Candidate {
  id: string;
  raw: number;
  total: number;
}

/**
 * The best `RANKED_CAP` candidates for a user: `Σ_q a_q · co(q,c)` with `a_q = w(u,q)/sqrt(total(q))`
 * (computed by the caller: the local engine has no sqrt), over posts the user never interacted
 * with. Ranked by `raw² / total(c)`, the square of the score `raw / sqrt(total(c))` (both positive,
 * so the order is the score's).
 */
export async function candidatesFor(
  db: TenantDb,
  userId: string,
  seeds: { postId: string; a: number }[],
): Promise<Candidate[]> {
  if (!seeds.length) return [];
  return db.all<Candidate>(sql`WITH s AS (
      SELECT json_extract(value, '$[0]') AS post_id, json_extract(value, '$[1]') AS a FROM json_each(${json(seeds.map((x) => [x.postId, x.a]))})
    ), c AS (
      SELECT pr.other_id AS id, sum(s.a * pr.co) AS raw FROM s JOIN rec_item_pairs pr ON pr.post_id = s.post_id
      WHERE NOT EXISTS (SELECT 1 FROM rec_interactions i WHERE i.user_id = ${userId} AND i.post_id = pr.other_id)
      GROUP BY pr.other_id
    )
    SELECT c.id AS id, c.raw AS raw, n.total AS total FROM c JOIN rec_item_norms n ON n.post_id = c.id
    ORDER BY c.raw * c.raw / n.total DESC, c.id DESC LIMIT ${RANKED_CAP}`);
}

/**
 * A post's best `RANKED_CAP` co-occurrence neighbours: score `co / sqrt(total(p)·total(c))`,
 * ranked by `co² / total(c)` (total(p) is the same for all).
 */
export async function neighboursOf(db: TenantDb, postId: string): Promise<Candidate[]> {
  return db.all<Candidate>(sql`SELECT pr.other_id AS id, pr.co AS raw, n.total AS total
    FROM rec_item_pairs pr JOIN rec_item_norms n ON n.post_id = pr.other_id WHERE pr.post_id = ${postId}
    ORDER BY 1.0 * pr.co * pr.co / n.total DESC, pr.other_id DESC LIMIT ${RANKED_CAP}`);
}

/** A post's norm (0 when nobody interacted with it). */
export async function totalOf(db: TenantDb, postId: string): Promise<number> {
  // `all`, not `get`: drizzle's libSQL `get` of a raw query throws when there is no row.
  const [row] = await db.all<{ total: number }>(sql`SELECT total FROM rec_item_norms WHERE post_id = ${postId}`);
  return row?.total ?? 0;
}

/**
 * Which of `ids` (ranked) the viewer may be recommended, in one statement: visible to them
 * (`visibleTo`: published, not deleted, author active and not blocked either way, audience), not
 * their own, not liked by them. Applied after ranking, so nothing ranked can leak.
 */
export async function recommendable(db: TenantDb, c: Circle, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db
    .select({ id: posts.id })
    .from(posts)
    .where(
      and(
        inArray(posts.id, ids),
        visibleTo(c),
        ne(posts.authorId, c.viewer),
        sql`NOT EXISTS (SELECT 1 FROM post_likes l WHERE l.post_id = ${posts.id} AND l.user_id = ${c.viewer})`,
      ),
    )
    .all();
  return new Set(rows.map((r) => r.id));
}

/** A user suggested to another, with how many friends they share. */
export interface SuggestedRow {
  userId: string;
  mutualFriends: number;
}

const activeOnly = (column: ReturnType<typeof sql>) =>
  sql`EXISTS (SELECT 1 FROM users u WHERE u.id = ${column} AND u.status = 'active')`;

/**
 * Friends of the user's `friends` (live, from their hub) by the mirrored edges, with the count of
 * mutual friends, most first; active users outside `exclude` only.
 */
export async function friendsOfFriends(
  db: TenantDb,
  userId: string,
  friends: string[],
  exclude: string[],
  limit: number,
): Promise<SuggestedRow[]> {
  if (!friends.length) return [];
  return db.all<SuggestedRow>(sql`SELECT e.friend_id AS userId, count(*) AS mutualFriends FROM rec_friend_edges e
    WHERE e.user_id IN (SELECT value FROM json_each(${json(friends)})) AND e.friend_id <> ${userId}
      AND e.friend_id NOT IN (SELECT value FROM json_each(${json(exclude)})) AND ${activeOnly(sql`e.friend_id`)}
    GROUP BY e.friend_id ORDER BY mutualFriends DESC, userId LIMIT ${limit}`);
}

/**
 * Users who interacted with the posts of the user's `SEED_WINDOW` most recent interactions, by
 * how many they share, most first; active users outside `exclude` only.
 */
export async function sharedInterests(
  db: TenantDb,
  userId: string,
  exclude: string[],
  limit: number,
): Promise<{ userId: string; shared: number }[]> {
  return db.all<{ userId: string; shared: number }>(sql`WITH mine AS (
      SELECT post_id FROM rec_interactions WHERE user_id = ${userId} ORDER BY updated_at DESC, post_id DESC LIMIT ${SEED_WINDOW}
    )
    SELECT o.user_id AS userId, count(*) AS shared FROM mine JOIN rec_interactions o ON o.post_id = mine.post_id
    WHERE o.user_id <> ${userId} AND o.user_id NOT IN (SELECT value FROM json_each(${json(exclude)}))
      AND ${activeOnly(sql`o.user_id`)}
    GROUP BY o.user_id ORDER BY shared DESC, userId LIMIT ${limit}`);
}

/** Which of `ids` the user ever interacted with (never recommended to them by the personal part). */
export async function interactedAmong(db: TenantDb, userId: string, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db.all<{ id: string }>(sql`SELECT post_id AS id FROM rec_interactions
    WHERE user_id = ${userId} AND post_id IN (SELECT value FROM json_each(${json(ids)}))`);
  return new Set(rows.map((r) => r.id));
}
