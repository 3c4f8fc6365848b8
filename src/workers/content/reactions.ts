import { createRoute } from "@hono/zod-openapi";
import { bookmarkPage, likerPage, setReaction } from "../../db/tenant/post-reactions";
import { findPost } from "../../db/tenant/posts";
import { iso } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { PostIdParamSchema, PostLikerSchema, PostSchema } from "./schemas";
import { viewOf, viewsOf } from "./service";
import { circleOf, maySee, postNotFound } from "./visibility";

/**
 * Likes and bookmarks: PUT/DELETE /v1/posts/{id}/like and /bookmark (idempotent, answer the post
 * as it is after the change), GET /v1/posts/{id}/likes, GET /v1/me/bookmarks.
 */
export const reactionRoutes = createRouter();
const tags = ["Posts"];
const security = [{ bearer: [] }];
const mw = signedIn();

/** PUT (on) and DELETE (off) of one reaction; only on a post the viewer may see, else 404. */
function reactionRoute(kind: "like" | "bookmark", method: "put" | "delete") {
  const on = method === "put";
  reactionRoutes.openapi(
    createRoute({
      method,
      path: `/posts/{id}/${kind}`,
      operationId: `${on ? "" : "un"}${kind}Post`,
      tags,
      security,
      middleware: mw,
      summary: `${on ? "Add" : "Remove"} the caller's ${kind} (idempotent); answers the post`,
      request: { params: PostIdParamSchema },
      responses: {
        200: jsonResponse(PostSchema, "The post after the change"),
        ...problemResponses("post_not_found", "user_required"),
      },
    }),
    async (c) => {
      const me = requireUser(c.get("principal")).userId;
      const scope = scopeOf(c);
      const id = c.req.valid("param").id;
      const post = await findPost(scope.db, id);
      if (!post || !(await maySee(scope, me, post))) throw postNotFound();
      await setReaction(scope.db, kind, id, me, on, { postId: id, authorId: post.authorId });
      // Read again for the counters as committed (other users' likes included).
      const after = (await findPost(scope.db, id)) ?? post;
      return c.json(await viewOf(scope, me, after), 200);
    },
  );
}
reactionRoute("like", "put");
reactionRoute("like", "delete");
reactionRoute("bookmark", "put");
reactionRoute("bookmark", "delete");

reactionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/posts/{id}/likes",
    operationId: "listPostLikes",
    tags,
    security,
    middleware: mw,
    summary: "Who liked a post, newest like first",
    description: "Active users only, and none blocked either way with the caller.",
    request: { params: PostIdParamSchema, query: PageQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(PostLikerSchema), "Likes"),
      ...problemResponses("post_not_found", "user_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const q = c.req.valid("query");
    const post = await findPost(scope.db, c.req.valid("param").id);
    if (!post || !(await maySee(scope, me, post))) throw postNotFound();
    const pg = pagerFor(c, "time-id");
    const rows = await likerPage(scope.db, await circleOf(scope, me), post.id, q.limit + 1, await pg.after(q.cursor));
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.at, r.userId]);
    const items = page.map((r) => ({ userId: r.userId, nickname: r.nickname ?? "", likedAt: iso(r.at) }));
    return c.json({ items, nextCursor }, 200);
  },
);

reactionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/bookmarks",
    operationId: "listMyBookmarks",
    tags,
    security,
    middleware: mw,
    summary: "The caller's bookmarked posts they may still see, newest bookmark first",
    description: "Posts the caller may no longer see (deleted, hidden, blocked, a suspended author) are left out.",
    request: { query: PageQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(PostSchema), "Posts"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const rows = await bookmarkPage(scope.db, await circleOf(scope, me), q.limit + 1, await pg.after(q.cursor));
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.at, r.post.id]);
    return c.json(
      {
        items: await viewsOf(
          scope,
          me,
          page.map((r) => r.post),
        ),
        nextCursor,
      },
      200,
    );
  },
);
