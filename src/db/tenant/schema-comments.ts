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
