import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * drizzle view of the platform database. The DDL lives in migrations/platform/*.sql; this file
 * must mirror it (tests/worker/platform-schema.test.ts checks the columns against the live DB).
 */
export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  status: text("status", { enum: ["provisioning", "active", "suspended", "deleted"] }).notNull(),
  plan: text("plan").notNull(),
  dbProvider: text("db_provider").notNull(),
  dbName: text("db_name").notNull(),
  dbUrl: text("db_url"),
  dbTokenSealed: text("db_token_sealed"),
  config: text("config").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  suspendedAt: integer("suspended_at"),
  deletedAt: integer("deleted_at"),
});

export type TenantRow = typeof tenants.$inferSelect;
export type TenantStatus = TenantRow["status"];

export const plans = sqliteTable("plans", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  limits: text("limits").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    status: integer("status"),
    response: text("response"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);

export const tenantMigrations = sqliteTable("tenant_migrations", {
  tenantId: text("tenant_id").primaryKey(),
  version: integer("version").notNull(),
  appliedAt: integer("applied_at").notNull(),
});

export const deadLetters = sqliteTable("dead_letters", {
  id: text("id").primaryKey(),
  queue: text("queue"),
  reason: text("reason").notNull(),
  eventId: text("event_id"),
  eventType: text("event_type"),
  tenantId: text("tenant_id"),
  body: text("body").notNull(),
  createdAt: integer("created_at").notNull(),
  replayedAt: integer("replayed_at"),
  replayCount: integer("replay_count").notNull(),
});
export type DeadLetterRow = typeof deadLetters.$inferSelect;

export const queueStats = sqliteTable("queue_stats", {
  queue: text("queue").primaryKey(),
  processed: integer("processed").notNull(),
  retried: integer("retried").notNull(),
  deadLettered: integer("dead_lettered").notNull(),
  lastBatchAt: integer("last_batch_at"),
  lastBatchSize: integer("last_batch_size"),
  lastLagMs: integer("last_lag_ms"),
  maxLagMs: integer("max_lag_ms").notNull(),
});

/** The platform audit log (migrations/platform/0003); its queries are shared with the tenants' (../audit-log.ts). */
export { auditLog } from "../audit-schema";

/** Tenant backups and restores (migrations/platform/0004; docs/operations.md, "Backup and restore"). */
export const backups = sqliteTable("backups", {
  id: text("id").primaryKey(),
  tenantId: text("tenant_id").notNull(),
  status: text("status", { enum: ["running", "done", "failed"] }).notNull(),
  trigger: text("trigger", { enum: ["manual", "scheduled"] }).notNull(),
  schemaVersion: integer("schema_version"),
  parts: integer("parts").notNull(),
  rows: integer("rows").notNull(),
  bytes: integer("bytes").notNull(),
  error: text("error"),
  createdAt: integer("created_at").notNull(),
  finishedAt: integer("finished_at"),
});
export type BackupRow = typeof backups.$inferSelect;

export const restores = sqliteTable("restores", {
  id: text("id").primaryKey(),
  backupId: text("backup_id").notNull(),
  sourceTenantId: text("source_tenant_id").notNull(),
  intoTenantId: text("into_tenant_id").notNull(),
  intoSlug: text("into_slug").notNull(),
  status: text("status", { enum: ["running", "done", "failed"] }).notNull(),
  rows: integer("rows").notNull(),
  objects: integer("objects").notNull(),
  error: text("error"),
  createdAt: integer("created_at").notNull(),
  finishedAt: integer("finished_at"),
});
export type RestoreRow = typeof restores.$inferSelect;
