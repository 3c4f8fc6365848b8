import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authorPostPage, type PostRow, type PostVisibility } from "../../db/tenant/posts";
import { AppError } from "../../lib/errors";
import { type AppEnv, scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { MyPostsQuerySchema, PostIdParamSchema, PostSchema } from "./schemas";
import { viewsOf } from "./service";
import { audienceOf } from "./visibility";

/** Lists of posts: /v1/users/{id}/posts (what the viewer may see), /v1/me/posts (one's own, drafts too). */
export const postListRoutes = createRouter();
const tags = ["Posts"];
const security = [{ bearer: [] }];
const mw = signedIn();

/** One page of an author's posts, newest first, under the route's signed (created_at, id) cursor. */
async function authorPage(
  c: Context<AppEnv>,
  authorId: string,
  filter: { statuses: PostRow["status"][]; visibilities: PostVisibility[] },
  q: { limit: number; cursor?: string | undefined },
) {
  const scope = scopeOf(c);
  const db = scope.db;
  const pg = pagerFor(c, "time-id");
  const rows = await authorPostPage(db, authorId, filter, q.limit + 1, await pg.after(q.cursor));
  const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.createdAt, r.id]);
  return { items: await viewsOf(scope, requireUser(c.get("principal")).userId, page), nextCursor };
}

postListRoutes.openapi(
  createRoute({
    method: "get",
    path: "/users/{id}/posts",
    operationId: "listUserPosts",
    tags,
    security,
    middleware: mw,
    summary: "A user's published posts the viewer may see, newest first",
    request: { params: PostIdParamSchema, query: PageQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(PostSchema), "Posts"),
      ...problemResponses("user_not_found", "user_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const id = c.req.valid("param").id;
    const scope = scopeOf(c);
    // No such user, not active, or blocked either way: all read as no such user, like GET /v1/users/{id}.
    const audience = await audienceOf(scope, me, id);
    if (!audience) throw new AppError("user_not_found", "No such user.");
    return c.json(
      await authorPage(c, id, { statuses: ["published"], visibilities: audience }, c.req.valid("query")),
      200,
    );
  },
);

postListRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/posts",
    operationId: "listMyPosts",
    tags,
    security,
    middleware: mw,
    summary: "The signed-in user's own posts (drafts and published, or one status), newest first",
    request: { query: MyPostsQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(PostSchema), "Posts"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const q = c.req.valid("query");
    // Without a filter: everything of one's own, held and removed posts too (their status says so).
    const statuses: PostRow["status"][] = q.status ? [q.status] : ["draft", "published", "under_review", "removed"];
    const visibilities: PostVisibility[] = ["public", "followers", "friends", "private"];
    return c.json(await authorPage(c, me, { statuses, visibilities }, q), 200);
  },
);
