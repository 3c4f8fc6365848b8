import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** drizzle view of a tenant database; the DDL lives in migrations/tenant/*.sql. */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
