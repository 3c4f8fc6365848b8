import {
  type CommentRow,
  findComment,
  firstReplies,
  insertComment,
  likedCommentsQuery,
} from "../../db/tenant/comments";
import { authorsOf, authorsQuery, findPost, type PostRow } from "../../db/tenant/posts";
import { activeUserIds } from "../../db/tenant/users";
import type { Circle } from "../../db/tenant/visible";
import { hubStub } from "../../durable/protocol/stubs";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { TenantScope } from "../gateway/context";
import type { CommentCreate } from "./comment-schemas";
import { mentionedUsers } from "./mentions";
import { classify, heldItemSql, WORDLIST_FINDING } from "../ai-core/hook";
import { moderateFields } from "./moderation-hook";
import { commentView } from "./views";
import { lockedFor, maySee, postNotFound, vipRequired } from "./visibility";

/** How many replies each top-level comment of a list carries. */
export const FIRST_REPLIES = 3;

export const commentNotFound = () => new AppError("comment_not_found", "No such comment.");

/**
 * The post the viewer may see, or 404 `post_not_found` (never a hint that it exists); a VIP-only
 * post locked for the viewer is 403 `vip_required` unless `locked` allows it (reporting does).
 */
export async function visiblePost(
  scope: TenantScope,
  viewer: string,
  postId: string,
  opts: { locked?: "allow" } = {},
): Promise<PostRow> {
  const post = await findPost(scope.db, postId);
  if (!post || !(await maySee(scope, viewer, post))) throw postNotFound();
  if (opts.locked !== "allow" && (await lockedFor(scope, viewer, post))) throw vipRequired();
  return post;
}

/** Which of these authors the viewer blocks or is blocked by (their comments are hidden both ways). */
export async function blockedAuthors(scope: TenantScope, viewer: string, authors: string[]): Promise<Set<string>> {
  const others = [...new Set(authors)].filter((a) => a !== viewer);
  if (others.length === 0) return new Set();
  return new Set(await hubStub(scope.env, scope.tenant.id, viewer).blockedAmong(others));
}

/**
 * A comment the viewer may see, with its post: the comment exists and (unless `tombstone`) is not
 * deleted, its post is one the viewer may see, and no block stands between the viewer and its
 * author. Anything else is 404 `comment_not_found`.
 */
export async function visibleComment(
  scope: TenantScope,
  viewer: string,
  id: string,
  opts: { tombstone?: boolean; locked?: "allow" } = {},
): Promise<{ comment: CommentRow; post: PostRow }> {
  const comment = await findComment(scope.db, id);
  if (!comment || (comment.deletedAt !== null && !opts.tombstone)) throw commentNotFound();
  // A comment held for review is its author's alone until a moderator approves it.
  if (comment.deletedAt === null && comment.status !== "published" && comment.authorId !== viewer)
    throw commentNotFound();
  const post = await findPost(scope.db, comment.postId);
  if (!post || !(await maySee(scope, viewer, post))) throw commentNotFound();
  if (opts.locked !== "allow" && (await lockedFor(scope, viewer, post))) throw vipRequired();
  if (comment.deletedAt === null && (await blockedAuthors(scope, viewer, [comment.authorId])).size > 0)
    throw commentNotFound();
  // A suspended or deleted author's comments are hidden from others, as their posts are.
  if (
    comment.deletedAt === null &&
    comment.authorId !== viewer &&
    !(await activeUserIds(scope.db, [comment.authorId])).has(comment.authorId)
  )
    throw commentNotFound();
  return { comment, post };
}

/**
 * Adds a comment to a published post the author may see. A reply names any live comment of the
 * same post: a reply to a reply attaches to its top-level comment, with `replyToUserId` the author
 * of the comment answered.
 */
export async function createComment(
  scope: TenantScope,
  authorId: string,
  post: PostRow,
  input: CommentCreate,
  now = Date.now(),
): Promise<CommentRow> {
  if (post.status !== "published")
    throw new AppError("post_not_published", "Comments open once the post is published.");
  let parentId: string | null = null;
  let replyTo: string | null = null;
  if (input.parentId !== undefined) {
    const parent = await findComment(scope.db, input.parentId);
    const hidden = parent && (await blockedAuthors(scope, authorId, [parent.authorId])).size > 0;
    const held = parent && parent.status !== "published" && parent.authorId !== authorId;
    if (!parent || parent.postId !== post.id || parent.deletedAt !== null || hidden || held)
      throw new AppError("comment_not_found", "parentId is not a comment of this post.");
    parentId = parent.parentId ?? parent.id;
    replyTo = parent.authorId;
  }
  const m = moderateFields(scope, { body: input.body });
  const finding = m.held ? WORDLIST_FINDING : await classify(scope, m.fields.body);
  const row: CommentRow = {
    id: newId(now),
    postId: post.id,
    authorId,
    parentId,
    replyToUserId: replyTo,
    body: m.fields.body,
    status: finding ? "under_review" : "published",
    createdAt: now,
    deletedAt: null,
    likeCount: 0,
    replyCount: 0,
  };
  // A held comment tells no one yet (its approval does not notify either: documented).
  const mentioned = row.status === "published" ? await mentionedUsers(scope, authorId, post, row.body) : [];
  const item = finding ? [heldItemSql({ type: "comment", id: row.id, authorId, text: row.body }, finding, now)] : [];
  await insertComment(
    scope.db,
    row,
    {
      commentId: row.id,
      postId: post.id,
      postAuthorId: post.authorId,
      authorId,
      parentId,
      replyToUserId: replyTo,
      status: row.status,
      preview: [...row.body].slice(0, 140).join(""),
      mentioned,
    },
    item,
  );
  return row;
}

/** Comments as the API answers them to a viewer: authors and the viewer's likes, in one batch. */
export async function commentViews(scope: TenantScope, viewer: string, rows: CommentRow[]) {
  if (rows.length === 0) return [];
  const [authorRows, liked] = await scope.db.batch([
    authorsQuery(
      scope.db,
      rows.map((r) => r.authorId),
    ),
    likedCommentsQuery(
      scope.db,
      viewer,
      rows.map((r) => r.id),
    ),
  ]);
  const author = authorsOf(authorRows);
  const likes = new Set(liked.map((r) => r.id));
  return rows.map((r) => commentView(r, author(r.authorId), likes.has(r.id)));
}

/**
 * A page of top-level comments as threads, each with its first replies; the lists are read with
 * the viewer's circle, so comments by users blocked either way are left out in SQL.
 */
export async function threadViews(scope: TenantScope, circle: Circle, tops: CommentRow[]) {
  const replies = await firstReplies(
    scope.db,
    circle,
    tops.filter((t) => t.replyCount > 0).map((t) => t.id),
    FIRST_REPLIES,
  );
  const all = [...tops, ...[...replies.values()].flat()];
  const views = new Map((await commentViews(scope, circle.viewer, all)).map((v) => [v.id, v]));
  return tops.map((t) => ({ ...views.get(t.id)!, replies: (replies.get(t.id) ?? []).map((r) => views.get(r.id)!) }));
}
