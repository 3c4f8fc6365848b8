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
  /** Views, at most one per viewer per hour (migrations/tenant/0018). */
  viewCount: integer("view_count").notNull().default(0),
  /** Above 0: a VIP-only post, locked below this VIP level (migrations/tenant/0025). */
  minVipLevel: integer("min_vip_level").notNull().default(0),
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

/** Each viewer's last counted view of a post (migrations/tenant/0018). */
export const postViewers = sqliteTable(
  "post_viewers",
  {
    postId: text("post_id").notNull(),
    userId: text("user_id").notNull(),
    countedAt: integer("counted_at").notNull(),
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

/**
 * The search index's documents (migrations/tenant/0017): one row per indexed post or comment;
 * `docKey` is the rowid of its row in the FTS table (search_fts).
 */
export const searchDocs = sqliteTable("search_docs", {
  docKey: integer("doc_key").primaryKey(),
  docType: text("doc_type", { enum: ["post", "comment"] }).notNull(),
  docId: text("doc_id").notNull(),
  postId: text("post_id").notNull(),
  indexedAt: integer("indexed_at").notNull(),
});
export type SearchDocType = (typeof searchDocs.$inferSelect)["docType"];

/** The FTS5 table (contentless; token text only), for typed joins: only `rowid` is ever read. */
export const searchFts = sqliteTable("search_fts", {
  rowid: integer("rowid"),
  title: text("title"),
  body: text("body"),
  tags: text("tags"),
});

/** The FTS5 table a rebuild fills while queries read search_fts (swapped in by renaming). */
export const searchFtsNext = sqliteTable("search_fts_next", {
  rowid: integer("rowid"),
  title: text("title"),
  body: text("body"),
  tags: text("tags"),
});

/** The index's one state row: a rebuild in progress since, the last one finished at. */
export const searchState = sqliteTable("search_state", {
  id: integer("id").primaryKey(),
  rebuildingSince: integer("rebuilding_since"),
  lastRebuildAt: integer("last_rebuild_at"),
});
