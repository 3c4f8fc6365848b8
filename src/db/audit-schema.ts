import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The audit log as drizzle sees it, in a tenant's DB and in the platform DB alike (the DDL is in
 * migrations/tenant/0033 and migrations/platform/0003; queries in audit-log.ts).
 */
export const auditLog = sqliteTable("audit_log", {
  id: text("id").primaryKey(),
  at: integer("at").notNull(),
  actorType: text("actor_type").notNull(),
  actorId: text("actor_id"),
  action: text("action").notNull(),
  targetType: text("target_type"),
  targetId: text("target_id"),
  ip: text("ip"),
  userAgent: text("user_agent"),
  requestId: text("request_id"),
  changes: text("changes"),
  outcome: text("outcome").notNull(),
  security: integer("security").notNull(),
});
