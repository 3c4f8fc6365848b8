import { createRoute } from "@hono/zod-openapi";
import { hotCandidates } from "../../db/tenant/feeds";
import { findPost, postsByIds } from "../../db/tenant/posts";
import { candidatesFor, neighboursOf, recommendable, seedsOf, totalOf } from "../../db/tenant/recommend";
import type { Circle } from "../../db/tenant/visible";
import { scopeOf, type TenantScope } from "../gateway/context";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { HOT_CANDIDATES, hotRank, hotSince } from "./hot";
import { blendForPost, blendForViewer } from "./rec-vectors";
import { PostIdParamSchema, PostSchema } from "./schemas";
import { viewsOf } from "./service";
import { circleOf, maySeeAs, postNotFound } from "./visibility";

/**
 * Recommendations (docs/content.md): GET /v1/feeds/recommended and GET /v1/posts/{id}/similar,
 * from the item-item tables the `ai` queue's consumer keeps (db/tenant/recommend.ts). Ranking
 * comes first and visibility after it, in one SQL over the best ids, so nothing ranked can leak.
 */
export const recommendedRoutes = createRouter();
const tags = ["Feeds"];
const security = [{ bearer: [] }];
const mw = signedIn();

/** Fewer interactions than this and the feed is the hot feed only (too little to go on). */
export const MIN_INTERACTIONS = 3;
/**
 * Collaborative-filtering keys sit above this, hot fill keys (hot ranks, below 10^13) under it:
 * one keyset order `(key, id)` over both parts of the feed.
 */
const CF_TIER = 1e15;

interface Ranked {
  id: string;
  key: number;
}

const byKey = (a: Ranked, b: Ranked) => b.key - a.key || (a.id < b.id ? 1 : -1);
const pastCursor = (list: Ranked[], after?: [number, string]) =>
  list.filter((x) => !after || x.key < after[0] || (x.key === after[0] && x.id < after[1]));

/** Millionths of a score, as the cursor keeps it. */
const millionths = (score: number) => Math.round(score * 1e6);

/** Posts ranked by score (only positive ones), those the viewer may be recommended, best first. */
async function rankedVisible(scope: TenantScope, circle: Circle, scores: Map<string, number>, tier: number) {
  const ids = [...scores].filter(([, v]) => v > 0).map(([id]) => id);
  const ok = await recommendable(scope.db, circle, ids);
  return ids
    .filter((id) => ok.has(id))
    .map((id) => ({ id, key: tier + millionths(scores.get(id) ?? 0) }))
    .sort(byKey);
}

/**
 * The viewer's personal candidates they may be shown, best first: collaborative filtering (from
 * MIN_INTERACTIONS interactions on), blended with vectors when the tenant has them on.
 */
async function personalRanked(scope: TenantScope, circle: Circle): Promise<Ranked[]> {
  const seeds = await seedsOf(scope.db, circle.viewer);
  // a_q = w(u,q) / sqrt(total(q)) here: the local libSQL engine has no sqrt.
  const candidates =
    seeds.length < MIN_INTERACTIONS
      ? []
      : await candidatesFor(
          scope.db,
          circle.viewer,
          seeds.map((s) => ({ postId: s.postId, a: s.weight / Math.sqrt(s.total) })),
        );
  // Each term co(q,c) / sqrt(total(q)·total(c)) is at most 1, so over Σ w(u,q) the score is in [0, 1].
  const weights = seeds.reduce((n, s) => n + s.weight, 0);
  const cf = new Map(candidates.map((c) => [c.id, c.raw / Math.sqrt(c.total) / weights]));
  const scores = (await blendForViewer(scope, circle.viewer, seeds, cf)) ?? cf;
  return rankedVisible(scope, circle, scores, CF_TIER);
}

/** Hot posts the viewer may be shown (not their own, not liked), hot order, minus `skip`. */
async function hotRanked(scope: TenantScope, circle: Circle, skip: Set<string>): Promise<Ranked[]> {
  const halfLife = scope.tenant.config.content.hotHalfLifeHours;
  const hot = (await hotCandidates(scope.db, circle, hotSince(halfLife, Date.now()), HOT_CANDIDATES)).filter(
    (p) => !skip.has(p.id),
  );
  const ok = await recommendable(
    scope.db,
    circle,
    hot.map((p) => p.id),
  );
  return hot
    .filter((p) => ok.has(p.id))
    .map((p) => ({ id: p.id, key: hotRank(p, halfLife) }))
    .sort(byKey);
}

const pageResponses = (...extra: Parameters<typeof problemResponses>) => ({
  200: jsonResponse(pageSchema(PostSchema), "Posts"),
  ...problemResponses("invalid_cursor", "user_required", ...extra),
});

recommendedRoutes.openapi(
  createRoute({
    method: "get",
    path: "/feeds/recommended",
    operationId: "recommendedFeed",
    tags,
    security,
    middleware: mw,
    summary: "Posts for the viewer from what similar readers liked, commented, bookmarked and viewed",
    description:
      "Item-item collaborative filtering over the viewer's 50 most recent interactions (from 3 interactions on), blended `0.7·cf + 0.3·cosine` with the nearest posts to the viewer's taste when the tenant has vectors on, then hot posts to fill. Never a post the viewer may not see, their own, one they liked, or one by a user blocked either way (docs/ai.md, Recommendations).",
    request: { query: PageQuerySchema },
    responses: pageResponses(),
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const after = await pg.after(q.cursor);
    const circle = await circleOf(scope, me);
    const cf = await personalRanked(scope, circle);
    let list = pastCursor(cf, after);
    // Hot fill only when the rest of the collaborative part cannot fill the page.
    if (list.length <= q.limit) {
      const hot = await hotRanked(scope, circle, new Set(cf.map((x) => x.id)));
      list = [...list, ...pastCursor(hot, after)];
    }
    const { page, nextCursor } = await pg.page(list.slice(0, q.limit + 1), q.limit, (x) => [x.key, x.id]);
    const rows = await postsByIds(
      scope.db,
      page.map((x) => x.id),
    );
    return c.json({ items: await viewsOf(scope, me, rows), nextCursor }, 200);
  },
);

recommendedRoutes.openapi(
  createRoute({
    method: "get",
    path: "/posts/{id}/similar",
    operationId: "similarPosts",
    tags,
    security,
    middleware: mw,
    summary: "Posts often engaged with by the same readers as this one",
    description:
      "Co-occurrence neighbours, `co / sqrt(total(p)·total(c))`, blended `0.7·cf + 0.3·cosine` with the post's nearest posts by vector when the tenant has vectors on, with the recommended feed's visibility rules; 404 as `GET /v1/posts/{id}` for a post the caller may not see.",
    request: { params: PostIdParamSchema, query: PageQuerySchema },
    responses: pageResponses("post_not_found"),
  }),
  async (c) => {
    const principal = requireUser(c.get("principal"));
    const me = principal.userId;
    const scope = scopeOf(c);
    const q = c.req.valid("query");
    const post = await findPost(scope.db, c.req.valid("param").id);
    if (!post || !(await maySeeAs(scope, principal, post))) throw postNotFound();
    const pg = pagerFor(c, "time-id");
    const after = await pg.after(q.cursor);
    const [total, neighbours, circle] = await Promise.all([
      totalOf(scope.db, post.id),
      neighboursOf(scope.db, post.id),
      circleOf(scope, me),
    ]);
    const cf = new Map(total > 0 ? neighbours.map((n) => [n.id, n.raw / Math.sqrt(total * n.total)]) : []);
    const scores = (await blendForPost(scope, post.id, cf)) ?? cf;
    const ranked = await rankedVisible(scope, circle, scores, 0);
    const list = pastCursor(ranked, after);
    const { page, nextCursor } = await pg.page(list.slice(0, q.limit + 1), q.limit, (x) => [x.key, x.id]);
    const rows = await postsByIds(
      scope.db,
      page.map((x) => x.id),
    );
    return c.json({ items: await viewsOf(scope, me, rows), nextCursor }, 200);
  },
);
