import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { countView, followingPage, hotCandidates, tagPage } from "../../db/tenant/feeds";
import { findPost, postsByIds } from "../../db/tenant/posts";
import { type AppEnv, scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { HOT_CANDIDATES, hotRank, hotSince } from "./hot";
import { PostIdParamSchema, PostSchema, PostViewsSchema, TagParamSchema } from "./schemas";
import { viewsOf } from "./service";
import { circleOf, maySee, postNotFound } from "./visibility";

/**
 * Feeds (docs/content.md): GET /v1/feeds/following, GET /v1/feeds/hot, GET /v1/tags/{tag}/posts,
 * and POST /v1/posts/{id}/views, which feeds the hot score.
 */
export const feedRoutes = createRouter();
const tags = ["Feeds"];
const security = [{ bearer: [] }];
const mw = signedIn();
/** A viewer's views of a post count at most once per this window. */
const VIEW_WINDOW_MS = 3_600_000;

/** The parts every feed route shares: the viewer, their circle, the page query and its pager. */
async function feedContext(c: Context<AppEnv>) {
  const me = requireUser(c.get("principal")).userId;
  const scope = scopeOf(c);
  return { me, scope, circle: await circleOf(scope, me), pg: pagerFor(c, "time-id") };
}

const feedResponses = {
  200: jsonResponse(pageSchema(PostSchema), "Posts"),
  ...problemResponses("invalid_cursor", "user_required"),
};

function feedRoute(path: string, operationId: string, summary: string, description: string) {
  return createRoute({
    method: "get",
    path,
    operationId,
    tags,
    security,
    middleware: mw,
    summary,
    description,
    request: { query: PageQuerySchema },
    responses: feedResponses,
  });
}

feedRoutes.openapi(
  feedRoute(
    "/feeds/following",
    "followingFeed",
    "Published posts of the people the viewer follows, and their own, newest first",
    "Ordered by publication time; the cursor is keyset on (publishedAt, id), so posts published while a client pages never cause duplicates or skips (they appear on a fresh first page).",
  ),
  async (c) => {
    const { me, scope, circle, pg } = await feedContext(c);
    const q = c.req.valid("query");
    const rows = await followingPage(scope.db, circle, q.limit + 1, await pg.after(q.cursor));
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.publishedAt!, r.id]);
    return c.json({ items: await viewsOf(scope, me, page), nextCursor }, 200);
  },
);

feedRoutes.openapi(
  feedRoute(
    "/feeds/hot",
    "hotFeed",
    "The tenant's posts the viewer may see, ranked by a time-decayed score of likes, comments and views",
    "Score `(1 + likes + 2·comments + 0.1·views) · 2^(−age / content.hotHalfLifeHours)`, over the most recent 1,000 posts of the last 10 half-lives (docs/content.md).",
  ),
  async (c) => {
    const { me, scope, circle, pg } = await feedContext(c);
    const q = c.req.valid("query");
    const after = await pg.after(q.cursor);
    const halfLife = scope.tenant.config.content.hotHalfLifeHours;
    const candidates = await hotCandidates(scope.db, circle, hotSince(halfLife, Date.now()), HOT_CANDIDATES);
    // Ranks do not move with time, so (rank, id) is a stable keyset across pages.
    const ranked = candidates
      .map((p) => ({ p, rank: hotRank(p, halfLife) }))
      .sort((a, b) => b.rank - a.rank || (a.p.id < b.p.id ? 1 : -1))
      .filter((x) => !after || x.rank < after[0] || (x.rank === after[0] && x.p.id < after[1]));
    const { page, nextCursor } = await pg.page(ranked.slice(0, q.limit + 1), q.limit, (x) => [x.rank, x.p.id]);
    // The page's rows, read by id once ranked (candidates carry only what ranks them).
    const rows = await postsByIds(
      scope.db,
      page.map((x) => x.p.id),
    );
    return c.json({ items: await viewsOf(scope, me, rows), nextCursor }, 200);
  },
);

feedRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tags/{tag}/posts",
    operationId: "listTagPosts",
    tags,
    security,
    middleware: mw,
    summary: "Posts with a tag the viewer may see, newest first",
    description: "The tag is matched as posts' tags are stored: trimmed, NFKC-normalised and lowercased.",
    request: { params: TagParamSchema, query: PageQuerySchema },
    responses: feedResponses,
  }),
  async (c) => {
    const { me, scope, circle, pg } = await feedContext(c);
    const q = c.req.valid("query");
    const rows = await tagPage(scope.db, circle, c.req.valid("param").tag, q.limit + 1, await pg.after(q.cursor));
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.publishedAt!, r.id]);
    return c.json({ items: await viewsOf(scope, me, page), nextCursor }, 200);
  },
);

feedRoutes.openapi(
  createRoute({
    method: "post",
    path: "/posts/{id}/views",
    operationId: "viewPost",
    tags,
    security,
    middleware: mw,
    summary: "Count a view of a post (at most one per viewer per post per hour; the author's own do not count)",
    request: { params: PostIdParamSchema },
    responses: {
      200: jsonResponse(PostViewsSchema, "The post's views"),
      ...problemResponses("post_not_found", "user_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const post = await findPost(scope.db, c.req.valid("param").id);
    if (!post || !(await maySee(scope, me, post)) || post.status !== "published") throw postNotFound();
    const counted = post.authorId !== me && (await countView(scope.db, post.id, me, VIEW_WINDOW_MS));
    const views = counted ? ((await findPost(scope.db, post.id))?.viewCount ?? post.viewCount + 1) : post.viewCount;
    return c.json({ postId: post.id, views, counted }, 200);
  },
);
