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
