import { approveComment, type CommentRow, deleteComment, findComment, markRemovedSql } from "../../db/tenant/comments";
import { findPost, type PostRow, type UpdateAlso, updatePost } from "../../db/tenant/posts";
import { closeItemsSql } from "../../db/tenant/moderation-items";
import { findReport, type ReportRow, resolveReportsSql } from "../../db/tenant/reports";
import { AppError } from "../../lib/errors";
import type { Principal, TenantScope } from "../gateway/context";
import { assertOutranks } from "../gateway/ranks";
import { mentionedUsers } from "./mentions";
import { actorOf, holds, MODERATE_COMMENTS, postNotFound } from "./visibility";

/**
 * Moderators' actions on posts and comments (docs/content.md, "Reports and moderation"). Each
 * writes the status, the search index and tag rows (through updatePost), its event and the
 * resolution of the item's open reports in one transaction.
 */

const conflict = (why: string) => new AppError("post_state_conflict", why);

/**
 * Moves a post from the statuses in `from` to `to`, retrying on a concurrent edit (the write is
 * guarded by the version read). Already in `to`: answered as it is (idempotent). In another
 * status: 409 `post_state_conflict`.
 */
async function transition(
  scope: TenantScope,
  post: PostRow,
  from: PostRow["status"][],
  to: PostRow["status"],
  also: (p: PostRow, at: number) => UpdateAlso,
): Promise<PostRow> {
  let p: PostRow | undefined = post;
  for (let attempt = 0; attempt < 3 && p; attempt++) {
    if (p.status === to) return p;
    if (!from.includes(p.status)) throw conflict(`The post is ${p.status}; this action needs it ${from.join(" or ")}.`);
    const at = Math.max(Date.now(), p.updatedAt + 1);
    const next: PostRow = {
      ...p,
      status: to,
      updatedAt: at,
      publishedAt: p.publishedAt ?? (to === "published" ? at : null),
    };
    // A held post's approval is its first publication: its mentions notify then.
    const first = p.publishedAt === null && next.publishedAt !== null;
    const mentioned = first ? await mentionedUsers(scope, p.authorId, next, `${next.title}\n${next.body}`) : [];
    if (await updatePost(scope.db, p, next, { ...also(p, at), mentioned }))
      return (await findPost(scope.db, p.id)) ?? next;
    p = await findPost(scope.db, p.id);
  }
  if (!p) throw postNotFound();
  throw conflict("The post kept changing while this action was made; try again.");
}

/** Removes a post (published or held): 404 to all but its author and moderators; `post.removed`. */
export const removePost = (scope: TenantScope, post: PostRow, by: string) =>
  transition(scope, post, ["published", "under_review"], "removed", (p, at) => ({
    events: [{ type: "post.removed", subject: p.authorId, data: { postId: p.id, authorId: p.authorId, by } }],
    statements: [resolveReportsSql("post", p.id, "actioned", by, at), closeItemsSql("post", p.id, "blocked", by, at)],
  }));

/** Puts a removed post back (published; `post.published` if it never was). */
export const restorePost = (scope: TenantScope, post: PostRow) =>
  transition(scope, post, ["removed"], "published", () => ({}));

/** Publishes a post the moderation hook held (`post.published` on its first publication); its review item is closed. */
export const approvePost = (scope: TenantScope, post: PostRow, by = "system") =>
  transition(scope, post, ["under_review"], "published", (p, at) => ({
    statements: [closeItemsSql("post", p.id, "allowed", by, at)],
  }));

/**
 * Removes a comment: deleted as its author could (a tombstone while it has replies; the counters
 * move only if this call deleted it), marked `removed`, its open reports actioned, in one batch.
 */
export async function removeComment(scope: TenantScope, c: CommentRow, by: string, now = Date.now()): Promise<void> {
  await deleteComment(scope.db, c, now, [
    markRemovedSql(c.id),
    resolveReportsSql("comment", c.id, "actioned", by, now),
    closeItemsSql("comment", c.id, "blocked", by, now),
  ]);
}

/** Publishes a comment the moderation hook held; 409 when it is not held. */
export async function approveHeldComment(scope: TenantScope, c: CommentRow, by = "system"): Promise<void> {
  if (c.status === "published" && c.deletedAt === null) return;
  const now = Date.now();
  const close = closeItemsSql("comment", c.id, "allowed", by, now);
  if (c.status !== "under_review" || c.deletedAt !== null || !(await approveComment(scope.db, c, now, [close])))
    throw new AppError("post_state_conflict", "The comment is not held for review.");
}

/**
 * Resolves a report (GET /v1/admin/reports' items): `dismiss`, or `remove` the post (published or
 * held; a removed, deleted or draft one is left as it is) or the comment (which needs
 * comments:moderate too). Either way every open report of the item is resolved with the outcome.
 * The moderator must outrank the item's author to remove it.
 */
export async function resolveReport(
  scope: TenantScope,
  principal: Principal,
  report: ReportRow,
  action: "dismiss" | "remove",
): Promise<ReportRow> {
  if (report.status !== "open") throw new AppError("report_resolved", "The report was resolved already.");
  const by = actorOf(principal);
  if (action === "remove" && report.targetType === "post") {
    const post = await findPost(scope.db, report.targetId);
    if (post && (post.status === "published" || post.status === "under_review")) {
      await assertOutranks(scope.db, principal, post.authorId);
      await removePost(scope, post, by);
    }
  } else if (action === "remove") {
    if (!(await holds(scope, principal, MODERATE_COMMENTS)))
      throw new AppError("forbidden", `Removing a comment needs ${MODERATE_COMMENTS}.`);
    const comment = await findComment(scope.db, report.targetId);
    if (comment) {
      await assertOutranks(scope.db, principal, comment.authorId);
      await removeComment(scope, comment, by);
    }
  }
  // Dismissed, or a target gone already: the item's open reports are resolved here.
  const outcome = action === "remove" ? "actioned" : "dismissed";
  await scope.db.run(resolveReportsSql(report.targetType, report.targetId, outcome, by, Date.now()));
  return (await findReport(scope.db, report.id)) ?? report;
}
