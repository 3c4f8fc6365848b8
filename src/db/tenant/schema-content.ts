import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** The content service's tables (migrations/tenant/0014), part of the tenant schema (schema.ts). */
/** Posts (docs/content.md): tags and media are JSON arrays; deleted_at is the soft delete. */
export const posts = sqliteTable("posts", {
  id: text("id").primaryKey(),
  authorId: text("author_id").notNull(),
  title: text("title").notNull(),
  body: text("body").notNull(),
  tags: text("tags").notNull(),
  media: text("media").notNull(),
  visibility: text("visibility", { enum: ["public", "followers", "friends", "private"] }).notNull(),
  status: text("status", { enum: ["draft", "published", "removed", "under_review"] }).notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  editedAt: integer("edited_at"),
  publishedAt: integer("published_at"),
  deletedAt: integer("deleted_at"),
  likeCount: integer("like_count").notNull().default(0),
  commentCount: integer("comment_count").notNull().default(0),
  bookmarkCount: integer("bookmark_count").notNull().default(0),
});
export type PostRow = typeof posts.$inferSelect;
export type PostVisibility = PostRow["visibility"];

/** A published post's tags, for tag lists. */
export const postTags = sqliteTable(
  "post_tags",
  {
    tag: text("tag").notNull(),
    postId: text("post_id").notNull(),
    publishedAt: integer("published_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tag, t.postId] })],
);

/** Who liked a post (migrations/tenant/0015): one row per (post, user). */
export const postLikes = sqliteTable(
  "post_likes",
  {
    postId: text("post_id").notNull(),
    userId: text("user_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.userId] })],
);

/** Who bookmarked a post: one row per (post, user). */
export const postBookmarks = sqliteTable(
  "post_bookmarks",
  {
    postId: text("post_id").notNull(),
    userId: text("user_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.userId] })],
);
