import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The commerce service's tables (migrations/tenant/0021 on), part of the tenant schema
 * (schema.ts). Money columns are integers of minor units; writes bind them as bigint.
 */

/** A wallet (`kind` user, `owner` the user id) or a system account, one per currency. */
export const ledgerAccounts = sqliteTable("ledger_accounts", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["user", "system"] }).notNull(),
  owner: text("owner").notNull(),
  currency: text("currency").notNull(),
  balance: integer("balance").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** A journal transaction's header, written after its entries (immutable). */
export const ledgerTransactions = sqliteTable("ledger_transactions", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["top_up", "order", "refund", "grant", "adjustment", "clawback"] }).notNull(),
  topUpId: text("top_up_id"),
  orderId: text("order_id"),
  reversesId: text("reverses_id"),
  entryCount: integer("entry_count").notNull(),
  unbalanced: integer("unbalanced").notNull(),
  memo: text("memo"),
  createdBy: text("created_by"),
  createdAt: integer("created_at").notNull(),
});

/** One leg of a transaction on one account (immutable); seq is the write order. */
export const ledgerEntries = sqliteTable("ledger_entries", {
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  id: text("id").notNull().unique(),
  transactionId: text("transaction_id").notNull(),
  accountId: text("account_id").notNull(),
  userId: text("user_id"),
  currency: text("currency").notNull(),
  amount: integer("amount").notNull(),
  balanceAfter: integer("balance_after").notNull(),
  kind: text("kind").notNull(),
  orderId: text("order_id"),
  createdAt: integer("created_at").notNull(),
});

/** Idempotency keys of money-moving requests, completed in the same transaction as their effect. */
export const moneyKeys = sqliteTable(
  "money_keys",
  {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    owner: text("owner").notNull(),
    state: text("state", { enum: ["running", "done"] }).notNull(),
    status: integer("status"),
    response: text("response"),
    lockedUntil: integer("locked_until").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);

/** A tenant's payment provider: public settings, sealed secrets (migrations/tenant/0022). */
export const paymentProviders = sqliteTable("payment_providers", {
  provider: text("provider", { enum: ["stripe", "sandbox"] }).primaryKey(),
  active: integer("active", { mode: "boolean" }).notNull(),
  settings: text("settings").notNull(),
  sealed: text("sealed"),
  updatedAt: integer("updated_at").notNull(),
});

/** A wallet top-up: pending until its provider's verified webhook says succeeded or failed. */
export const topUps = sqliteTable("top_ups", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  amount: integer("amount").notNull(),
  currency: text("currency").notNull(),
  provider: text("provider", { enum: ["stripe", "sandbox"] }).notNull(),
  providerRef: text("provider_ref"),
  status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
  checkout: text("checkout"),
  failure: text("failure"),
  createdAt: integer("created_at").notNull(),
  completedAt: integer("completed_at"),
});
export type TopUpRow = typeof topUps.$inferSelect;

/** Provider events already processed, by event id. */
export const paymentEvents = sqliteTable(
  "payment_events",
  {
    provider: text("provider").notNull(),
    eventId: text("event_id").notNull(),
    type: text("type").notNull(),
    topUpId: text("top_up_id"),
    outcome: text("outcome").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.eventId] })],
);

/** A catalogue product (migrations/tenant/0023); `grants` is JSON by kind, `version` moves on every change. */
export const products = sqliteTable("products", {
  id: text("id").primaryKey(),
  sku: text("sku").notNull().unique(),
  name: text("name").notNull(),
  kind: text("kind", { enum: ["vip", "ai_quota", "content", "currency"] }).notNull(),
  priceAmount: integer("price_amount").notNull(),
  priceCurrency: text("price_currency").notNull(),
  grants: text("grants").notNull(),
  active: integer("active", { mode: "boolean" }).notNull(),
  version: integer("version").notNull(),
  deletedAt: integer("deleted_at"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
export type ProductRow = typeof products.$inferSelect;

/** An order: its items as bought (JSON snapshot), total, and forward-only status. */
export const orders = sqliteTable("orders", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  status: text("status", { enum: ["pending", "paid", "fulfilled", "cancelled", "refunded"] }).notNull(),
  currency: text("currency").notNull(),
  total: integer("total").notNull(),
  items: text("items").notNull(),
  createdAt: integer("created_at").notNull(),
  paidAt: integer("paid_at"),
  fulfilledAt: integer("fulfilled_at"),
  refundedAt: integer("refunded_at"),
  refundReason: text("refund_reason"),
  refundedBy: text("refunded_by"),
  refundRun: text("refund_run"),
  refundDetail: text("refund_detail"),
});
export type OrderRow = typeof orders.$inferSelect;

/** Countable grants of an order (AI quota units, virtual currency) and how much is used or taken back. */
export const orderGrants = sqliteTable(
  "order_grants",
  {
    orderId: text("order_id").notNull(),
    userId: text("user_id").notNull(),
    kind: text("kind", { enum: ["ai_quota", "currency"] }).notNull(),
    target: text("target").notNull(),
    quantity: integer("quantity").notNull(),
    used: integer("used").notNull(),
    revoked: integer("revoked").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.kind, t.target] })],
);

/** Posts and tags a `content` product unlocked for a user. */
export const contentUnlocks = sqliteTable(
  "content_unlocks",
  {
    userId: text("user_id").notNull(),
    targetType: text("target_type", { enum: ["post", "tag"] }).notNull(),
    target: text("target").notNull(),
    orderId: text("order_id").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
  },
  (t) => [primaryKey({ columns: [t.userId, t.targetType, t.target] })],
);

/** A period of a user's VIP schedule (migrations/tenant/0024): revoked rows are history. */
export const vipPeriods = sqliteTable("vip_periods", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull(),
  level: integer("level").notNull(),
  startsAt: integer("starts_at").notNull(),
  endsAt: integer("ends_at").notNull(),
  valueAmount: integer("value_amount").notNull(),
  valueCurrency: text("value_currency"),
  source: text("source", { enum: ["order", "conversion", "admin"] }).notNull(),
  orderId: text("order_id"),
  revokedAt: integer("revoked_at"),
  createdAt: integer("created_at").notNull(),
});

/** A VIP member: the schedule's version, what was last announced, when to look again. */
export const vipMembers = sqliteTable("vip_members", {
  userId: text("user_id").primaryKey(),
  version: integer("version").notNull(),
  announcedLevel: integer("announced_level").notNull(),
  announcedExpiresAt: integer("announced_expires_at"),
  nextCheckAt: integer("next_check_at"),
});

/** Expiry notices already sent (one per user and expiry instant). */
export const vipNotices = sqliteTable(
  "vip_notices",
  {
    userId: text("user_id").notNull(),
    kind: text("kind", { enum: ["expiring"] }).notNull(),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.kind, t.expiresAt] })],
);
