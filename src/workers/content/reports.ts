import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { fileReport, findReport, type ReportRow, reportPage } from "../../db/tenant/reports";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { iso, isoOrNull } from "../../lib/time";
import { type AppEnv, scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn, withPermission } from "../gateway/middleware/authn";
import { CommentIdParamSchema } from "./comment-schemas";
import { visibleComment, visiblePost } from "./comment-service";
import {
  ReportCreateSchema,
  ReportIdParamSchema,
  ReportQuerySchema,
  ReportSchema,
  ResolveSchema,
} from "./moderation-schemas";
import { resolveReport } from "./moderation-service";
import { PostIdParamSchema } from "./schemas";
import { MODERATE_POSTS } from "./visibility";

/**
 * Reports (docs/content.md, "Reports and moderation"): POST /v1/posts/{id}/reports and
 * /v1/comments/{id}/reports for users; GET /v1/admin/reports and POST
 * /v1/admin/reports/{id}/resolve for holders of posts:moderate.
 */
export const reportRoutes = createRouter();
const security = [{ bearer: [] }];

export const reportView = (r: ReportRow) => ({
  id: r.id,
  targetType: r.targetType,
  targetId: r.targetId,
  postId: r.postId,
  reporterId: r.reporterId,
  reason: r.reason as (typeof ReportSchema)["_output"]["reason"],
  detail: r.detail,
  status: r.status,
  createdAt: iso(r.createdAt),
  resolvedAt: isoOrNull(r.resolvedAt),
  resolvedBy: r.resolvedBy,
});

/** Files the caller's report of an item (201), or answers their open one on it (200). */
async function report(
  c: Context<AppEnv>,
  input: { reason: string; detail?: string | undefined },
  target: ReportRow["targetType"],
  targetId: string,
  postId: string,
) {
  const me = requireUser(c.get("principal")).userId;
  const now = Date.now();
  const row: ReportRow = {
    id: newId(now),
    targetType: target,
    targetId,
    postId,
    reporterId: me,
    reason: input.reason,
    detail: input.detail ?? "",
    status: "open",
    createdAt: now,
    resolvedAt: null,
    resolvedBy: null,
  };
  const { report, created } = await fileReport(c.get("db"), row);
  return { body: reportView(report), status: created ? (201 as const) : (200 as const) };
}

const reportResponses = {
  201: jsonResponse(ReportSchema, "The report"),
  200: jsonResponse(ReportSchema, "The caller's open report of this item, filed before"),
};

reportRoutes.openapi(
  createRoute({
    method: "post",
    path: "/posts/{id}/reports",
    operationId: "reportPost",
    tags: ["Moderation"],
    security,
    middleware: signedIn(),
    summary: "Report a post the caller may see (one open report per reporter and post)",
    request: { params: PostIdParamSchema, body: jsonBody(ReportCreateSchema) },
    responses: { ...reportResponses, ...problemResponses("post_not_found", "user_required") },
  }),
  async (c) => {
    const post = await visiblePost(scopeOf(c), requireUser(c.get("principal")).userId, c.req.valid("param").id, {
      locked: "allow",
    });
    const r = await report(c, c.req.valid("json"), "post", post.id, post.id);
    return c.json(r.body, r.status);
  },
);

reportRoutes.openapi(
  createRoute({
    method: "post",
    path: "/comments/{id}/reports",
    operationId: "reportComment",
    tags: ["Moderation"],
    security,
    middleware: signedIn(),
    summary: "Report a comment the caller may see (one open report per reporter and comment)",
    request: { params: CommentIdParamSchema, body: jsonBody(ReportCreateSchema) },
    responses: { ...reportResponses, ...problemResponses("comment_not_found", "user_required") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const { comment } = await visibleComment(scopeOf(c), me, c.req.valid("param").id, { locked: "allow" });
    const r = await report(c, c.req.valid("json"), "comment", comment.id, comment.postId);
    return c.json(r.body, r.status);
  },
);

reportRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/reports",
    operationId: "listReports",
    tags: ["Moderation"],
    security,
    middleware: withPermission(MODERATE_POSTS),
    summary: "The report queue: open reports oldest first, or resolved ones newest first",
    request: { query: ReportQuerySchema },
    responses: { 200: jsonResponse(pageSchema(ReportSchema), "Reports"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const rows = await reportPage(c.get("db"), q.status, q.limit + 1, await pg.after(q.cursor));
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.createdAt, r.id]);
    return c.json({ items: page.map(reportView), nextCursor }, 200);
  },
);

reportRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/reports/{id}/resolve",
    operationId: "resolveReport",
    tags: ["Moderation"],
    security,
    middleware: withPermission(MODERATE_POSTS),
    summary: "Resolve a report: dismiss it, or remove the post or comment (every open report of the item follows)",
    request: { params: ReportIdParamSchema, body: jsonBody(ResolveSchema) },
    responses: {
      200: jsonResponse(ReportSchema, "The report, resolved"),
      ...problemResponses("forbidden", "post_state_conflict", "rank_too_low", "report_not_found", "report_resolved"),
    },
  }),
  async (c) => {
    const scope = scopeOf(c);
    const found = await findReport(scope.db, c.req.valid("param").id);
    if (!found) throw new AppError("report_not_found", "No such report.");
    const resolved = await resolveReport(scope, c.get("principal"), found, c.req.valid("json").action);
    return c.json(reportView(resolved), 200);
  },
);
