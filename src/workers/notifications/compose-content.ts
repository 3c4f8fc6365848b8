import { z } from "zod";
import { PoisonError, type CloudEvent } from "../events/queues";
import type { Draft } from "./drafts";

/**
 * Likes of one post (or comment) that arrive within this window fold into one unread
 * notification ("Ann and 12 others liked your post"); a like after the window starts a new one.
 */
export const LIKE_WINDOW_MS = 3_600_000;

const id = z.string().min(1).max(64);
const ids = z.array(id).max(50).default([]);
const PostPublished = z.object({ postId: id, authorId: id, mentioned: ids });
const PostLiked = z.object({ postId: id, authorId: id, userId: id });
const CommentLiked = z.object({ commentId: id, postId: id, commentAuthorId: id, userId: id });
const CommentCreated = z.object({
  commentId: id,
  postId: id,
  postAuthorId: id,
  authorId: id,
  parentId: id.nullable(),
  replyToUserId: id.nullable(),
  status: z.string().default("published"),
  preview: z.string().max(1000).default(""),
  mentioned: ids,
});

function parse<T>(schema: z.ZodType<T>, event: CloudEvent): T {
  const r = schema.safeParse(event.data);
  if (!r.success) throw new PoisonError(`bad data for ${event.type}: ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}

/** The like window an event falls in (by its own time, so a redelivery lands in the same one). */
const windowOf = (event: CloudEvent) => Math.floor(Date.parse(event.time ?? "0") / LIKE_WINDOW_MS);

const mentions = (users: string[], actorId: string, where: string, data: Record<string, unknown>, body = "") =>
  users.map<Draft>((userId) => ({
    userId,
    type: "content_mention",
    groupKey: null,
    actorId,
    title: `{actor} mentioned you in ${where}`,
    body,
    data,
  }));

/**
 * What a content event means for users' inboxes: a post's author hears of comments and likes
 * (likes coalesced per window), a comment's author of replies and likes, mentioned users of
 * their mention. Nobody hears of their own doing, and a user gets one notification per event.
 */
export function contentDrafts(event: CloudEvent): Draft[] {
  switch (event.type) {
    case "post.published": {
      const d = parse(PostPublished, event);
      return mentions(d.mentioned, d.authorId, "a post", { postId: d.postId });
    }
    case "post.liked": {
      const d = parse(PostLiked, event);
      if (d.userId === d.authorId) return [];
      return [
        {
          userId: d.authorId,
          type: "post_like",
          groupKey: `post_like:${d.postId}:${windowOf(event)}`,
          actorId: d.userId,
          title: "{actor} liked your post",
          collapsedTitle: "{actor} and {others} others liked your post",
          body: "",
          data: { postId: d.postId },
        },
      ];
    }
    case "comment.liked": {
      const d = parse(CommentLiked, event);
      if (d.userId === d.commentAuthorId) return [];
      return [
        {
          userId: d.commentAuthorId,
          type: "comment_like",
          groupKey: `comment_like:${d.commentId}:${windowOf(event)}`,
          actorId: d.userId,
          title: "{actor} liked your comment",
          collapsedTitle: "{actor} and {others} others liked your comment",
          body: "",
          data: { postId: d.postId, commentId: d.commentId },
        },
      ];
    }
    case "comment.created": {
      const d = parse(CommentCreated, event);
      if (d.status !== "published") return [];
      const data = { postId: d.postId, commentId: d.commentId };
      const told = new Set([d.authorId]);
      const drafts: Draft[] = [];
      if (d.replyToUserId && !told.has(d.replyToUserId)) {
        told.add(d.replyToUserId);
        drafts.push({
          userId: d.replyToUserId,
          type: "comment_reply",
          groupKey: null,
          actorId: d.authorId,
          title: "{actor} replied to your comment",
          body: d.preview,
          data,
        });
      }
      if (!told.has(d.postAuthorId)) {
        told.add(d.postAuthorId);
        drafts.push({
          userId: d.postAuthorId,
          type: "post_comment",
          groupKey: `post_comment:${d.postId}`,
          actorId: d.authorId,
          title: "{actor} commented on your post",
          collapsedTitle: "{count} new comments on your post",
          body: d.preview,
          data,
        });
      }
      const rest = d.mentioned.filter((u) => !told.has(u));
      return [...drafts, ...mentions(rest, d.authorId, "a comment", data, d.preview)];
    }
    default:
      return [];
  }
}
