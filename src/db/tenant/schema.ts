import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** drizzle view of a tenant database; the DDL lives in migrations/tenant/*.sql. */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email"),
  username: text("username"),
  /** UTS #39 skeleton of the username, unique per tenant (migrations/tenant/0012). */
  usernameSkeleton: text("username_skeleton"),
  phone: text("phone"),
  passwordHash: text("password_hash").notNull(),
  status: text("status", { enum: ["active", "suspended", "deleted"] }).notNull(),
  totpSecretSealed: text("totp_secret_sealed"),
  mfaEnabled: integer("mfa_enabled", { mode: "boolean" }).notNull(),
  totpLastStep: integer("totp_last_step").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  deletedAt: integer("deleted_at"),
  /** When the email address was proven (migrations/tenant/0013); null: unproven. */
  emailVerifiedAt: integer("email_verified_at"),
  /** When a requested deletion erases the account (migrations/tenant/0032); null: none pending. */
  deletionDueAt: integer("deletion_due_at"),
  /** When the erasure finished; until then the sweep picks the user again. */
  erasedAt: integer("erased_at"),
});
export type UserRow = typeof users.$inferSelect;

export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    userId: text("user_id").notNull(),
    codeHash: text("code_hash").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [primaryKey({ columns: [t.userId, t.codeHash] })],
);

export const roles = sqliteTable("roles", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  description: text("description").notNull(),
  permissions: text("permissions").notNull(),
  system: integer("system", { mode: "boolean" }).notNull(),
  /** Seeded: owner 100, admin 80, moderator 50, member 0; custom roles 1–99 (migrations/tenant/0011). */
  rank: integer("rank").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
export type RoleRow = typeof roles.$inferSelect;

export const userRoles = sqliteTable(
  "user_roles",
  {
    userId: text("user_id").notNull(),
    roleId: text("role_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.roleId] })],
);

export const apiKeys = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  keyHash: text("key_hash").notNull(),
  permissions: text("permissions").notNull(),
  createdBy: text("created_by"),
  /** The rank the key acts with: its creator's highest rank when it was created. */
  rank: integer("rank").notNull(),
  createdAt: integer("created_at").notNull(),
  lastUsedAt: integer("last_used_at"),
  revokedAt: integer("revoked_at"),
});
export type ApiKeyRow = typeof apiKeys.$inferSelect;

export const signingKeys = sqliteTable("signing_keys", {
  kid: text("kid").primaryKey(),
  alg: text("alg").notNull(),
  publicJwk: text("public_jwk").notNull(),
  privateJwkSealed: text("private_jwk_sealed").notNull(),
  createdAt: integer("created_at").notNull(),
  retiredAt: integer("retired_at"),
});
export type SigningKeyRow = typeof signingKeys.$inferSelect;

export const outbox = sqliteTable("outbox", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  subject: text("subject"),
  data: text("data").notNull(),
  traceparent: text("traceparent"),
  createdAt: integer("created_at").notNull(),
  publishedAt: integer("published_at"),
  claimedUntil: integer("claimed_until"),
});

export const profiles = sqliteTable("profiles", {
  userId: text("user_id").primaryKey(),
  nickname: text("nickname").notNull(),
  avatarFileId: text("avatar_file_id"),
  bio: text("bio").notNull(),
  locale: text("locale").notNull(),
  gender: text("gender").notNull(),
  birthday: text("birthday"),
  region: text("region").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
export type ProfileRow = typeof profiles.$inferSelect;

export const userSettings = sqliteTable("user_settings", {
  userId: text("user_id").primaryKey(),
  value: text("value").notNull(),
  searchable: integer("searchable", { mode: "boolean" }).notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const follows = sqliteTable(
  "follows",
  {
    followerId: text("follower_id").notNull(),
    followeeId: text("followee_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.followerId, t.followeeId] })],
);

export const blocks = sqliteTable(
  "blocks",
  {
    blockerId: text("blocker_id").notNull(),
    blockedId: text("blocked_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.blockerId, t.blockedId] })],
);

export const files = sqliteTable("files", {
  id: text("id").primaryKey(),
  ownerId: text("owner_id").notNull(),
  purpose: text("purpose").notNull(),
  name: text("name").notNull(),
  contentType: text("content_type").notNull(),
  size: integer("size").notNull(),
  r2Key: text("r2_key").notNull(),
  sha256: text("sha256"),
  status: text("status", { enum: ["uploading", "ready", "deleted"] }).notNull(),
  uploadId: text("upload_id"),
  partSize: integer("part_size"),
  createdAt: integer("created_at").notNull(),
  deletedAt: integer("deleted_at"),
});
export type FileRow = typeof files.$inferSelect;

export const fileParts = sqliteTable(
  "file_parts",
  {
    fileId: text("file_id").notNull(),
    partNumber: integer("part_number").notNull(),
    etag: text("etag").notNull(),
    size: integer("size").notNull(),
  },
  (t) => [primaryKey({ columns: [t.fileId, t.partNumber] })],
);

/** The per-user conversation index (migrations/tenant/0005); the Conversation objects hold the rest. */
export const conversations = sqliteTable("conversations", {
  id: text("id").primaryKey(),
  type: text("type", { enum: ["direct", "group"] }).notNull(),
  createdBy: text("created_by").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const conversationMembers = sqliteTable(
  "conversation_members",
  {
    userId: text("user_id").notNull(),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    joinedAt: integer("joined_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.conversationId] })],
);

/** Single-use tokens already redeemed (an mfaToken's jti), kept until they expire. */
export const consumedTokens = sqliteTable("consumed_tokens", {
  jti: text("jti").primaryKey(),
  expiresAt: integer("expires_at").notNull(),
});

/** Events a queue consumer has handled (idempotency markers, pruned after 30 days). */
export const processedEvents = sqliteTable(
  "processed_events",
  {
    consumer: text("consumer").notNull(),
    eventId: text("event_id").notNull(),
    processedAt: integer("processed_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

/** The searchable archive of messages (current body; NULL once recalled). */
export const archivedMessages = sqliteTable(
  "archived_messages",
  {
    conversationId: text("conversation_id").notNull(),
    seq: integer("seq").notNull(),
    id: text("id").notNull(),
    senderId: text("sender_id").notNull(),
    kind: text("kind").notNull(),
    refId: text("ref_id"),
    body: text("body"),
    text: text("text"),
    sentAt: integer("sent_at").notNull(),
    editedAt: integer("edited_at"),
    recalledAt: integer("recalled_at"),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.seq] })],
);

/**
 * FTS5 tables (trigram), declared for their columns only: they are created by their migrations
 * (drizzle cannot express a virtual table) and queried through src/lib/search-query.ts's MATCH
 * and LIKE patterns.
 */
export const archivedMessagesFts = sqliteTable("archived_messages_fts", { text: text("text") });
export const userSearch = sqliteTable("user_search", {
  userId: text("user_id"),
  username: text("username"),
  nickname: text("nickname"),
});

/** Email challenges: verification, reset, sign-in code, change and undo (migrations/tenant/0013). */
export const emailChallenges = sqliteTable("email_challenges", {
  id: text("id").primaryKey(),
  eventId: text("event_id").notNull(),
  purpose: text("purpose", {
    enum: ["verify_email", "password_reset", "sign_in_code", "email_change", "email_undo"],
  }).notNull(),
  userId: text("user_id").notNull(),
  email: text("email").notNull(),
  tokenHash: text("token_hash"),
  codeHash: text("code_hash"),
  sealed: text("sealed"),
  data: text("data"),
  attempts: integer("attempts").notNull(),
  expiresAt: integer("expires_at").notNull(),
  usedAt: integer("used_at"),
  sentAt: integer("sent_at"),
  createdAt: integer("created_at").notNull(),
});
export type EmailChallengeRow = typeof emailChallenges.$inferSelect;
export type EmailPurpose = EmailChallengeRow["purpose"];

/** Notifications waiting for a user's next email digest. */
export const emailDigestItems = sqliteTable(
  "email_digest_items",
  {
    userId: text("user_id").notNull(),
    notificationId: text("notification_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.notificationId] })],
);

/** When each user's last email digest went out. */
export const emailDigestSent = sqliteTable("email_digest_sent", {
  userId: text("user_id").primaryKey(),
  sentAt: integer("sent_at").notNull(),
});

// Content (posts) lives beside this file; re-exported so the one tenant schema holds every table.
export * from "./schema-content";
export * from "./schema-comments";
export * from "./schema-commerce";
export * from "./schema-ai";
export * from "./schema-ai-content";
