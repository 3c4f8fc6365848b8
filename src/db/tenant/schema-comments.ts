import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Comments on posts (migrations/tenant/0016, docs/content.md): two levels. `parentId` is null for
 * a top-level comment and the top-level comment's id for a reply; `replyToUserId` names whom a
 * reply answers. `deletedAt` is the soft delete (a top-level one with live replies is a tombstone).
 */
export const comments = sqliteTable("comments", {
  id: text("id").primaryKey(),
  postId: text("post_id").notNull(),
  authorId: text("author_id").notNull(),
  parentId: text("parent_id"),
  replyToUserId: text("reply_to_user_id"),
  body: text("body").notNull(),
  status: text("status", { enum: ["published", "removed", "under_review"] }).notNull(),
  createdAt: integer("created_at").notNull(),
  deletedAt: integer("deleted_at"),
  likeCount: integer("like_count").notNull().default(0),
  replyCount: integer("reply_count").notNull().default(0),
});
export type CommentRow = typeof comments.$inferSelect;

/** Who liked a comment: one row per (comment, user). */
export const commentLikes = sqliteTable(
  "comment_likes",
  {
    commentId: text("comment_id").notNull(),
    userId: text("user_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.commentId, t.userId] })],
);

/** Reports of posts and comments (migrations/tenant/0019): one open report per reporter and item. */
export const reports = sqliteTable("reports", {
  id: text("id").primaryKey(),
  targetType: text("target_type", { enum: ["post", "comment"] }).notNull(),
  targetId: text("target_id").notNull(),
  postId: text("post_id").notNull(),
  reporterId: text("reporter_id").notNull(),
  reason: text("reason").notNull(),
  detail: text("detail").notNull(),
  status: text("status", { enum: ["open", "dismissed", "actioned"] }).notNull(),
  createdAt: integer("created_at").notNull(),
  resolvedAt: integer("resolved_at"),
  resolvedBy: text("resolved_by"),
});
export type ReportRow = typeof reports.$inferSelect;

/** Who ever liked a post or comment (migrations/tenant/0020): kept across unlikes. */
export const firstLikes = sqliteTable(
  "first_likes",
  {
    kind: text("kind", { enum: ["post", "comment"] }).notNull(),
    targetId: text("target_id").notNull(),
    userId: text("user_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.targetId, t.userId] })],
);
