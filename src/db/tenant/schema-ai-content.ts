import { customType, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The AI service's knowledge base, chat, recommendation and vector tables (migrations/tenant/0029,
 * 0030, 0031), part of the tenant schema (schema.ts). Queries are SQL beside them (knowledge.ts,
 * ai-chat.ts, recommend.ts).
 */

export const kbArticles = sqliteTable("kb_articles", {
  docKey: integer("doc_key").primaryKey(),
  id: text("id").notNull().unique(),
  title: text("title").notNull(),
  body: text("body").notNull(),
  tags: text("tags").notNull(),
  createdBy: text("created_by"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  deletedAt: integer("deleted_at"),
});

/** The articles' full-text index (contentless fts5, rowid = doc_key). */
export const kbFts = sqliteTable("kb_fts", { title: text("title"), body: text("body"), tags: text("tags") });

export const aiChatSessions = sqliteTable("ai_chat_sessions", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  title: text("title").notNull(),
  status: text("status", { enum: ["open", "handed_off"] }).notNull(),
  conversationId: text("conversation_id"),
  createdAt: integer("created_at").notNull(),
  lastMessageAt: integer("last_message_at").notNull(),
});

export const aiChatMessages = sqliteTable("ai_chat_messages", {
  id: text("id").primaryKey(),
  sessionId: text("session_id").notNull(),
  role: text("role", { enum: ["user", "assistant"] }).notNull(),
  content: text("content").notNull(),
  status: text("status", { enum: ["complete", "partial", "error"] }).notNull(),
  degraded: integer("degraded").notNull(),
  sources: text("sources").notNull(),
  units: integer("units").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** What an answer was grounded in: the prompt and the retrieved article ids, kept for audit. */
export const aiChatAudit = sqliteTable("ai_chat_audit", {
  messageId: text("message_id").primaryKey(),
  prompt: text("prompt").notNull(),
  retrievedIds: text("retrieved_ids").notNull(),
  provider: text("provider").notNull(),
  model: text("model"),
  createdAt: integer("created_at").notNull(),
});

/** A user's strongest interaction with a post (view 1, like 3, comment 4, bookmark 5). */
export const recInteractions = sqliteTable(
  "rec_interactions",
  {
    userId: text("user_id").notNull(),
    postId: text("post_id").notNull(),
    weight: integer("weight").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.postId] })],
);

export const recItemNorms = sqliteTable("rec_item_norms", {
  postId: text("post_id").primaryKey(),
  total: integer("total").notNull(),
});

export const recItemPairs = sqliteTable(
  "rec_item_pairs",
  { postId: text("post_id").notNull(), otherId: text("other_id").notNull(), co: integer("co").notNull() },
  (t) => [primaryKey({ columns: [t.postId, t.otherId] })],
);

export const recFriendEdges = sqliteTable(
  "rec_friend_edges",
  { userId: text("user_id").notNull(), friendId: text("friend_id").notNull() },
  (t) => [primaryKey({ columns: [t.userId, t.friendId] })],
);

/** libSQL's vector column: 384 little-endian float32s (written with `vector32(json)`, queries in embeddings.ts). */
const f32Blob = customType<{ data: Uint8Array }>({ dataType: () => "F32_BLOB(384)" });

/** A published post's embedding, by the model named (docs/ai.md, Vectors). */
export const postEmbeddings = sqliteTable("post_embeddings", {
  id: integer("id").primaryKey(),
  postId: text("post_id").notNull().unique(),
  model: text("model").notNull(),
  sourceAt: integer("source_at").notNull(),
  embedding: f32Blob("embedding").notNull(),
});

/** A knowledge-base article's embedding (title and opening), by the model named. */
export const kbEmbeddings = sqliteTable("kb_embeddings", {
  id: integer("id").primaryKey(),
  articleId: text("article_id").notNull().unique(),
  model: text("model").notNull(),
  sourceAt: integer("source_at").notNull(),
  embedding: f32Blob("embedding").notNull(),
});
