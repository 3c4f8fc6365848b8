import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** drizzle views of the privacy tables (migrations/tenant/0033, 0034); queries in audit-log.ts, exports.ts. */
export { auditLog } from "../audit-schema";

export const dataExports = sqliteTable("data_exports", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  requestedBy: text("requested_by"),
  status: text("status").notNull(),
  r2Key: text("r2_key"),
  size: integer("size"),
  error: text("error"),
  createdAt: integer("created_at").notNull(),
  finishedAt: integer("finished_at"),
  expiresAt: integer("expires_at"),
});
