import { createRoute } from "@hono/zod-openapi";
import { findComment, heldCommentPage } from "../../db/tenant/comments";
import { findPost, heldPostPage, type PostRow } from "../../db/tenant/posts";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { assertOutranks } from "../gateway/ranks";
import { CommentIdParamSchema, CommentSchema } from "./comment-schemas";
import { commentNotFound, commentViews } from "./comment-service";
import { HeldPostsQuerySchema } from "./moderation-schemas";
import { approveHeldComment, approvePost, removeComment, removePost, restorePost } from "./moderation-service";
import { PostIdParamSchema, PostSchema } from "./schemas";
import { viewOf, viewsOf } from "./service";
import { actorOf, MODERATE_COMMENTS, MODERATE_POSTS, postNotFound, viewerOf } from "./visibility";

/**
 * Moderators' actions (docs/content.md, "Reports and moderation"): remove, restore and approve
 * posts (posts:moderate), remove and approve comments (comments:moderate), and the queues of held
 * and removed items. A draft is its author's alone: 404 here as everywhere. Users with the
 * permission and API keys holding it may act (recorded as the user, or `api_key:<id>`).
 */
export const moderationRoutes = createRouter();
const tags = ["Moderation"];
const security = [{ bearer: [] }];

const postActions = {
  remove: {
    run: removePost,
    summary: "Remove a post: 404 to everyone but its author and moderators, who see status removed",
  },
  restore: {
    run: (scope: Parameters<typeof restorePost>[0], post: PostRow) => restorePost(scope, post),
    summary: "Put a removed post back (published)",
  },
  approve: {
    run: (scope: Parameters<typeof approvePost>[0], post: PostRow, by: string) => approvePost(scope, post, by),
    summary: "Publish a post the moderation hook held for review",
  },
} as const;

for (const [name, action] of Object.entries(postActions)) {
  moderationRoutes.openapi(
    createRoute({
      method: "post",
      path: `/admin/posts/{id}/${name}`,
      operationId: `${name}Post`,
      tags,
      security,
      middleware: withPermission(MODERATE_POSTS),
      summary: action.summary,
      description: "Idempotent: a post already in the resulting status is answered as it is.",
      request: { params: PostIdParamSchema },
      responses: {
        200: jsonResponse(PostSchema, "The post after the action"),
        ...problemResponses("forbidden", "post_not_found", "post_state_conflict", "rank_too_low"),
      },
    }),
    async (c) => {
      const principal = c.get("principal");
      const scope = scopeOf(c);
      const post = await findPost(scope.db, c.req.valid("param").id);
      if (!post || post.status === "draft") throw postNotFound();
      if (name === "remove") await assertOutranks(scope.db, principal, post.authorId);
      const after = await action.run(scope, post, actorOf(principal));
      return c.json(await viewOf(scope, viewerOf(principal), after, { moderator: true }), 200);
    },
  );
}

moderationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/posts",
    operationId: "listHeldPosts",
    tags,
    security,
    middleware: withPermission(MODERATE_POSTS),
    summary: "Posts held for review (default) or removed, oldest change first",
    request: { query: HeldPostsQuerySchema },
    responses: { 200: jsonResponse(pageSchema(PostSchema), "Posts"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const me = viewerOf(c.get("principal"));
    const scope = scopeOf(c);
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const rows = await heldPostPage(scope.db, q.status, q.limit + 1, await pg.after(q.cursor));
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.updatedAt, r.id]);
    return c.json({ items: await viewsOf(scope, me, page, { moderator: true }), nextCursor }, 200);
  },
);

function commentAction(name: "remove" | "approve", summary: string) {
  moderationRoutes.openapi(
    createRoute({
      method: "post",
      path: `/admin/comments/{id}/${name}`,
      operationId: `${name}Comment`,
      tags,
      security,
      middleware: withPermission(MODERATE_COMMENTS),
      summary,
      request: { params: CommentIdParamSchema },
      responses: {
        200: jsonResponse(CommentSchema, "The comment after the action"),
        ...problemResponses("comment_not_found", "forbidden", "post_state_conflict", "rank_too_low"),
      },
    }),
    async (c) => {
      const principal = c.get("principal");
      const scope = scopeOf(c);
      const comment = await findComment(scope.db, c.req.valid("param").id);
      if (!comment) throw commentNotFound();
      if (name === "remove") {
        await assertOutranks(scope.db, principal, comment.authorId);
        await removeComment(scope, comment, actorOf(principal));
      } else await approveHeldComment(scope, comment, actorOf(principal));
      const after = (await findComment(scope.db, comment.id)) ?? comment;
      return c.json((await commentViews(scope, viewerOf(principal), [after]))[0]!, 200);
    },
  );
}
commentAction("remove", "Remove a comment (deleted, a tombstone while it has replies; its reports actioned)");
commentAction("approve", "Publish a comment the moderation hook held for review");

moderationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/comments",
    operationId: "listHeldComments",
    tags,
    security,
    middleware: withPermission(MODERATE_COMMENTS),
    summary: "Comments held for review, oldest first",
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse(pageSchema(CommentSchema), "Comments"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const me = viewerOf(c.get("principal"));
    const scope = scopeOf(c);
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const rows = await heldCommentPage(scope.db, q.limit + 1, await pg.after(q.cursor));
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.createdAt, r.id]);
    return c.json({ items: await commentViews(scope, me, page), nextCursor }, 200);
  },
);
