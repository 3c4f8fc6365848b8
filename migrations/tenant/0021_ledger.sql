-- The wallet's double-entry ledger (docs/commerce.md). Every money movement is one journal
-- transaction: its entries, between accounts, sum to zero per currency. The invariants live in
-- the schema, so no code path can break them:
-- - a user's balance never goes negative (CHECK), whatever the concurrency: a posting that would
--   take it below zero aborts its whole batch;
-- - entries and transactions are immutable (triggers): corrections are reversing transactions;
-- - a transaction's header is written last, counting its entries: fewer than two entries or a
--   currency that does not sum to zero violates its CHECK and rolls the batch back;
-- - a top-up credits once, an order is paid once and refunded once (unique indexes).
-- Amounts are integers of minor units, bound as 64-bit integers; STRICT refuses anything else.
CREATE TABLE ledger_accounts (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'system')),
  owner TEXT NOT NULL,
  currency TEXT NOT NULL,
  balance INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  CHECK (kind = 'system' OR balance >= 0),
  CHECK (abs(balance) <= 1000000000000000),
  UNIQUE (kind, owner, currency)
) STRICT;

CREATE TABLE ledger_transactions (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('top_up', 'order', 'refund', 'grant', 'adjustment', 'clawback')),
  top_up_id TEXT,
  order_id TEXT,
  reverses_id TEXT UNIQUE REFERENCES ledger_transactions (id),
  entry_count INTEGER NOT NULL CHECK (entry_count >= 2),
  unbalanced INTEGER NOT NULL CHECK (unbalanced = 0),
  memo TEXT,
  created_by TEXT,
  created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX ledger_tx_top_up ON ledger_transactions (top_up_id) WHERE top_up_id IS NOT NULL;
CREATE UNIQUE INDEX ledger_tx_order ON ledger_transactions (order_id, kind) WHERE order_id IS NOT NULL;

-- seq orders entries as they were written (pages, balance_after, the CSV export); id is public.
CREATE TABLE ledger_entries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  transaction_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  user_id TEXT,
  currency TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount <> 0),
  balance_after INTEGER NOT NULL,
  kind TEXT NOT NULL,
  order_id TEXT,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX ledger_entries_user ON ledger_entries (user_id, currency, seq) WHERE user_id IS NOT NULL;
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, seq);
CREATE INDEX ledger_entries_tx ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_time ON ledger_entries (created_at, seq);

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END;
CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger transactions are immutable'); END;
CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger transactions are immutable'); END;

-- Idempotency keys of money-moving requests, in the same database as the money: a key is
-- completed in the same transaction as the effect it answers for, so a lost response or a
-- crashed isolate can never make a retry act twice. scope = route and caller; 24 h.
CREATE TABLE money_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  owner TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'done')),
  status INTEGER,
  response TEXT,
  locked_until INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) STRICT;
CREATE INDEX money_keys_created ON money_keys (created_at);

-- The seeded admin role reads the ledger and orders, refunds, manages products and payment providers.
UPDATE roles SET permissions = (
    SELECT json_group_array(value) FROM (
      SELECT value FROM json_each(roles.permissions)
      UNION ALL
      SELECT value FROM json_each('["ledger:read","orders:read","orders:refund","products:write","payments:configure"]')
        WHERE value NOT IN (SELECT value FROM json_each(roles.permissions))
    )
  ), updated_at = updated_at
  WHERE id = 'admin' AND system = 1
    AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = '*');
