import type { HotCandidate } from "../../db/tenant/feeds";

/** How a like, a comment and a view weigh in a post's engagement. */
export const HOT_WEIGHTS = { likes: 1, comments: 2, views: 0.1 } as const;
/** The hot feed looks back this many half-lives (older posts have decayed below 1/1024). */
export const HOT_HALF_LIVES = 10;
/** …and ranks at most this many of the most recent posts in that window. */
export const HOT_CANDIDATES = 1000;
const HOUR = 3_600_000;

/**
 * A post's hot score: `(1 + E) · 2^(−age / halfLife)`, with E = likes + 2·comments + 0.1·views.
 * Ranking by it equals ranking by its logarithm, `log2(1 + E) + publishedAt / halfLife` minus a
 * constant (`now / halfLife`), which is what this returns: it does not change as time passes, so a
 * page's order and its cursor stay valid while a client pages. Scaled to an integer (millionths)
 * for the cursor.
 */
export function hotRank(p: HotCandidate, halfLifeHours: number): number {
  const e = HOT_WEIGHTS.likes * p.likeCount + HOT_WEIGHTS.comments * p.commentCount + HOT_WEIGHTS.views * p.viewCount;
  const rank = Math.log2(1 + e) + (p.publishedAt ?? 0) / (halfLifeHours * HOUR);
  return Math.round(rank * 1e6);
}

/** Where the hot feed's window starts. */
export const hotSince = (halfLifeHours: number, now: number) => now - HOT_HALF_LIVES * halfLifeHours * HOUR;
