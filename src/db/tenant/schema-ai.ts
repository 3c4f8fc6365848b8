import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The AI service's tables (migrations/tenant/0026 on), part of the tenant schema (schema.ts).
 * Queries are written in SQL beside them (ai-quota.ts, ai-usage.ts, ai-providers.ts,
 * moderation-items.ts); these declarations keep the schema whole and typed.
 */

/** An admin's grant of quota units: a record, spent like a purchased pack. */
export const aiGrants = sqliteTable("ai_grants", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  quantity: integer("quantity").notNull(),
  used: integer("used").notNull(),
  revoked: integer("revoked").notNull(),
  reason: text("reason").notNull(),
  grantedBy: text("granted_by").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Pack units a running call holds (already in its grant's `used`). */
export const aiPackHolds = sqliteTable(
  "ai_pack_holds",
  {
    reservationId: text("reservation_id").notNull(),
    source: text("source", { enum: ["order", "grant"] }).notNull(),
    grantId: text("grant_id").notNull(),
    units: integer("units").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.reservationId, t.source, t.grantId] })],
);

/** One metered call: the audit of what it reserved, cost and how it ended. */
export const aiCalls = sqliteTable("ai_calls", {
  id: text("id").primaryKey(),
  userId: text("user_id"),
  feature: text("feature").notNull(),
  provider: text("provider").notNull(),
  model: text("model"),
  reserved: integer("reserved").notNull(),
  units: integer("units").notNull(),
  packUnits: integer("pack_units").notNull(),
  inputTokens: integer("input_tokens"),
  outputTokens: integer("output_tokens"),
  status: text("status", { enum: ["ok", "degraded", "aborted", "error"] }).notNull(),
  startedAt: integer("started_at").notNull(),
  durationMs: integer("duration_ms").notNull(),
});

/** Usage per quarter hour, user ('' for the tenant's own work) and feature. */
export const aiUsageQ = sqliteTable(
  "ai_usage_q",
  {
    userId: text("user_id").notNull(),
    bucket: integer("bucket").notNull(),
    feature: text("feature").notNull(),
    units: integer("units").notNull(),
    calls: integer("calls").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.bucket, t.feature] })],
);

/** A remote AI provider's settings and sealed key. */
export const aiProviders = sqliteTable("ai_providers", {
  provider: text("provider", { enum: ["openai-compatible", "workers-ai"] }).primaryKey(),
  features: text("features").notNull(),
  settings: text("settings").notNull(),
  sealed: text("sealed"),
  updatedAt: integer("updated_at").notNull(),
});

/** An item of the moderation review queue. */
export const moderationItems = sqliteTable("moderation_items", {
  id: text("id").primaryKey(),
  targetType: text("target_type", { enum: ["post", "comment", "message", "nickname", "bio"] }).notNull(),
  targetId: text("target_id").notNull(),
  conversationId: text("conversation_id"),
  authorId: text("author_id").notNull(),
  excerpt: text("excerpt").notNull(),
  autoDecision: text("auto_decision", { enum: ["review", "block"] }).notNull(),
  categories: text("categories").notNull(),
  scores: text("scores").notNull(),
  provider: text("provider").notNull(),
  degraded: integer("degraded").notNull(),
  status: text("status", { enum: ["open", "allowed", "blocked"] }).notNull(),
  decidedBy: text("decided_by"),
  decidedAt: integer("decided_at"),
  note: text("note"),
  appealStatus: text("appeal_status", { enum: ["open", "upheld", "overturned"] }),
  appealText: text("appeal_text"),
  appealedAt: integer("appealed_at"),
  version: integer("version").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
