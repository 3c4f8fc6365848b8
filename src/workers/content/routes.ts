import { createRoute } from "@hono/zod-openapi";
import { deletePost, findPost } from "../../db/tenant/posts";
import { AppError } from "../../lib/errors";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { assertOutranks } from "../gateway/ranks";
import { PostCreateSchema, PostIdParamSchema, PostPatchSchema, PostSchema } from "./schemas";
import { createPost, editPost, viewOf } from "./service";
import { holds, MODERATE_POSTS, maySee, maySeeAs, postNotFound } from "./visibility";

/** Posts: /v1/posts (create), /v1/posts/{id} (read, edit, delete). Lists are in lists.ts. */
export const postRoutes = createRouter();
const tags = ["Posts"];
const security = [{ bearer: [] }];
const mw = signedIn();

postRoutes.openapi(
  createRoute({
    method: "post",
    path: "/posts",
    operationId: "createPost",
    tags,
    security,
    middleware: mw,
    summary: "Create a post (published by default; visibility public by default)",
    request: { body: jsonBody(PostCreateSchema) },
    responses: {
      201: jsonResponse(PostSchema, "The post"),
      ...problemResponses("content_blocked", "invalid_media", "user_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const post = await createPost(scope, me, c.req.valid("json"));
    return c.json(await viewOf(scope, me, post), 201);
  },
);

postRoutes.openapi(
  createRoute({
    method: "get",
    path: "/posts/{id}",
    operationId: "getPost",
    tags,
    security,
    middleware: mw,
    summary: "A post (404 when it does not exist or the viewer may not see it)",
    description:
      "A removed or held post (`status` `removed`, `under_review`) answers only its author and holders of posts:moderate.",
    request: { params: PostIdParamSchema },
    responses: {
      200: jsonResponse(PostSchema, "The post"),
      ...problemResponses("post_not_found", "user_required"),
    },
  }),
  async (c) => {
    const principal = requireUser(c.get("principal"));
    const me = principal.userId;
    const scope = scopeOf(c);
    const post = await findPost(scope.db, c.req.valid("param").id);
    if (!post || !(await maySeeAs(scope, principal, post))) throw postNotFound();
    return c.json(await viewOf(scope, me, post), 200);
  },
);

postRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/posts/{id}",
    operationId: "updatePost",
    tags,
    security,
    middleware: mw,
    summary: "Edit a post (its author only)",
    request: { params: PostIdParamSchema, body: jsonBody(PostPatchSchema) },
    responses: {
      200: jsonResponse(PostSchema, "The post"),
      ...problemResponses(
        "content_blocked",
        "invalid_media",
        "forbidden",
        "post_not_found",
        "post_edit_conflict",
        "user_required",
      ),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const post = await findPost(scope.db, c.req.valid("param").id);
    if (!post || !(await maySee(scope, me, post))) throw postNotFound();
    if (post.authorId !== me) throw new AppError("forbidden", "Only its author may edit a post.");
    const next = await editPost(scope, post, c.req.valid("json"));
    return c.json(await viewOf(scope, me, next), 200);
  },
);

postRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/posts/{id}",
    operationId: "deletePost",
    tags,
    security,
    middleware: mw,
    summary: `Delete a post (its author, or a holder of ${MODERATE_POSTS}); gone from every list at once`,
    request: { params: PostIdParamSchema },
    responses: {
      204: { description: "Deleted" },
      ...problemResponses("forbidden", "post_not_found", "rank_too_low", "user_required"),
    },
  }),
  async (c) => {
    const principal = requireUser(c.get("principal"));
    const me = principal.userId;
    const scope = scopeOf(c);
    const post = await findPost(scope.db, c.req.valid("param").id);
    if (!post) throw postNotFound();
    if (post.authorId !== me) {
      if (!(await holds(scope, principal, MODERATE_POSTS))) {
        // Someone who cannot even see it learns nothing; someone who can is told it is not theirs.
        if (!(await maySee(scope, me, post))) throw postNotFound();
        throw new AppError("forbidden", `Only its author or a holder of ${MODERATE_POSTS} may delete a post.`);
      }
      // A moderator acts on another user's post only when they outrank its author.
      await assertOutranks(scope.db, principal, post.authorId);
    }
    // A concurrent delete that came first leaves the same result: 204 either way.
    await deletePost(scope.db, post.id);
    return c.body(null, 204);
  },
);
