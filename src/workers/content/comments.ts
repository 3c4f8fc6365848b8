import { createRoute } from "@hono/zod-openapi";
import { deleteComment, findComment, replyPage, topLevelPage } from "../../db/tenant/comments";
import { setReaction } from "../../db/tenant/post-reactions";
import { findPost } from "../../db/tenant/posts";
import { AppError } from "../../lib/errors";
import { scopeOf } from "../gateway/context";
import {
  createRouter,
  jsonBody,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  pagerFor,
  problemResponses,
} from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { assertOutranks } from "../gateway/ranks";
import {
  CommentCreateSchema,
  CommentIdParamSchema,
  CommentListQuerySchema,
  CommentSchema,
  CommentThreadSchema,
} from "./comment-schemas";
import {
  commentNotFound,
  commentViews,
  createComment,
  threadViews,
  visibleComment,
  visiblePost,
} from "./comment-service";
import { PostIdParamSchema } from "./schemas";
import { circleOf, holds, MODERATE_COMMENTS } from "./visibility";

/**
 * Comments (docs/content.md): POST/GET /v1/posts/{id}/comments, GET /v1/comments/{id}/replies,
 * DELETE /v1/comments/{id}, PUT/DELETE /v1/comments/{id}/like.
 */
export const commentRoutes = createRouter();
const tags = ["Comments"];
const security = [{ bearer: [] }];
const mw = signedIn();

commentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/posts/{id}/comments",
    operationId: "createComment",
    tags,
    security,
    middleware: mw,
    summary: "Comment on a post, or reply to a comment (two levels)",
    request: { params: PostIdParamSchema, body: jsonBody(CommentCreateSchema) },
    responses: {
      201: jsonResponse(CommentSchema, "The comment"),
      ...problemResponses(
        "comment_not_found",
        "content_blocked",
        "post_not_found",
        "post_not_published",
        "user_required",
        "vip_required",
      ),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const post = await visiblePost(scope, me, c.req.valid("param").id);
    const row = await createComment(scope, me, post, c.req.valid("json"));
    return c.json((await commentViews(scope, me, [row]))[0]!, 201);
  },
);

commentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/posts/{id}/comments",
    operationId: "listComments",
    tags,
    security,
    middleware: mw,
    summary: "A post's top-level comments, each with its first 3 replies and its reply count",
    description:
      "`sort`: `oldest` (default), `newest`, or `top` (most liked first). Comments by users blocked either way, and by suspended users, are left out.",
    request: { params: PostIdParamSchema, query: CommentListQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(CommentThreadSchema), "Comments"),
      ...problemResponses("post_not_found", "user_required", "vip_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const q = c.req.valid("query");
    const post = await visiblePost(scope, me, c.req.valid("param").id);
    const pg = pagerFor(c, "time-id");
    const circle = await circleOf(scope, me);
    const rows = await topLevelPage(scope.db, circle, post.id, q.sort, q.limit + 1, await pg.after(q.cursor));
    const key = q.sort === "top" ? "likeCount" : "createdAt";
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r[key], r.id]);
    return c.json({ items: await threadViews(scope, circle, page), nextCursor }, 200);
  },
);

commentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/comments/{id}/replies",
    operationId: "listCommentReplies",
    tags,
    security,
    middleware: mw,
    summary: "The replies of a top-level comment, oldest first (a reply has none of its own)",
    request: { params: CommentIdParamSchema, query: PageQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(CommentSchema), "Replies"),
      ...problemResponses("comment_not_found", "user_required", "vip_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const q = c.req.valid("query");
    const { comment } = await visibleComment(scope, me, c.req.valid("param").id, { tombstone: true });
    if (comment.deletedAt !== null && comment.replyCount === 0) throw commentNotFound();
    const pg = pagerFor(c, "time-id");
    const rows = await replyPage(
      scope.db,
      await circleOf(scope, me),
      comment.id,
      q.limit + 1,
      await pg.after(q.cursor),
    );
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.createdAt, r.id]);
    const items = await commentViews(scope, me, page);
    return c.json({ items, nextCursor }, 200);
  },
);

commentRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/comments/{id}",
    operationId: "deleteComment",
    tags,
    security,
    middleware: mw,
    summary: `Delete a comment (its author, the post's author, or a holder of ${MODERATE_COMMENTS})`,
    description:
      "A top-level comment with live replies stays as a tombstone (`deleted: true`, no author or body) until they are gone.",
    request: { params: CommentIdParamSchema },
    responses: {
      204: { description: "Deleted" },
      ...problemResponses("comment_not_found", "forbidden", "rank_too_low", "user_required", "vip_required"),
    },
  }),
  async (c) => {
    const principal = requireUser(c.get("principal"));
    const me = principal.userId;
    const scope = scopeOf(c);
    const comment = await findComment(scope.db, c.req.valid("param").id);
    if (!comment || comment.deletedAt !== null) throw commentNotFound();
    // The post's author may delete any comment on it (a blocked user's too). A moderator may
    // delete another user's comment when they outrank its author. Others get 403 for a comment
    // they may see and 404 for one they may not.
    if (comment.authorId !== me && (await findPost(scope.db, comment.postId))?.authorId !== me) {
      if (!(await holds(scope, principal, MODERATE_COMMENTS))) {
        await visibleComment(scope, me, comment.id);
        throw new AppError(
          "forbidden",
          `Only its author, the post's author or a holder of ${MODERATE_COMMENTS} may delete a comment.`,
        );
      }
      await assertOutranks(scope.db, principal, comment.authorId);
    }
    await deleteComment(scope.db, comment);
    return c.body(null, 204);
  },
);

/** PUT (on) and DELETE (off) of the caller's like on a comment they may see (idempotent). */
function likeRoute(method: "put" | "delete") {
  const on = method === "put";
  commentRoutes.openapi(
    createRoute({
      method,
      path: "/comments/{id}/like",
      operationId: on ? "likeComment" : "unlikeComment",
      tags,
      security,
      middleware: mw,
      summary: `${on ? "Like" : "Unlike"} a comment (idempotent); answers the comment`,
      request: { params: CommentIdParamSchema },
      responses: {
        200: jsonResponse(CommentSchema, "The comment after the change"),
        ...problemResponses("comment_not_found", "user_required", "vip_required"),
      },
    }),
    async (c) => {
      const me = requireUser(c.get("principal")).userId;
      const scope = scopeOf(c);
      const { comment, post } = await visibleComment(scope, me, c.req.valid("param").id);
      await setReaction(scope.db, "comment-like", comment.id, me, on, {
        commentId: comment.id,
        postId: post.id,
        commentAuthorId: comment.authorId,
      });
      const after = (await findComment(scope.db, comment.id)) ?? comment;
      return c.json((await commentViews(scope, me, [after]))[0]!, 200);
    },
  );
}
likeRoute("put");
likeRoute("delete");
