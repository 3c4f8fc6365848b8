-- Products and orders (docs/commerce.md). An order paid from the wallet is one batch: the order
-- row (the gate, inserted only if the balance covers it and every product is still as priced),
-- the payment posting, the grants and the event. Orders keep a snapshot of their items, so a
-- product changed or deleted later does not change what was bought.
CREATE TABLE products (
  id TEXT PRIMARY KEY,
  sku TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('vip', 'ai_quota', 'content', 'currency')),
  price_amount INTEGER NOT NULL CHECK (price_amount > 0),
  price_currency TEXT NOT NULL,
  grants TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  version INTEGER NOT NULL DEFAULT 1,
  deleted_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX products_listed ON products (active, id) WHERE deleted_at IS NULL;

CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'fulfilled', 'cancelled', 'refunded')),
  currency TEXT NOT NULL,
  total INTEGER NOT NULL CHECK (total >= 0),
  items TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  paid_at INTEGER,
  fulfilled_at INTEGER,
  refunded_at INTEGER,
  refund_reason TEXT,
  refunded_by TEXT,
  -- The refund run that moved the order to refunded: the gate of that refund's batch.
  refund_run TEXT,
  refund_detail TEXT
) STRICT;
CREATE INDEX orders_user ON orders (user_id, id);
CREATE INDEX orders_status ON orders (status, id);

-- The state machine only moves forward: pending → paid → fulfilled, pending → cancelled,
-- paid or fulfilled → refunded.
CREATE TRIGGER orders_forward_only BEFORE UPDATE OF status ON orders
  WHEN NOT (OLD.status = NEW.status
    OR (OLD.status = 'pending' AND NEW.status IN ('paid', 'fulfilled', 'cancelled'))
    OR (OLD.status = 'paid' AND NEW.status IN ('fulfilled', 'refunded'))
    OR (OLD.status = 'fulfilled' AND NEW.status = 'refunded'))
BEGIN SELECT RAISE(ABORT, 'an order''s status cannot move backwards'); END;

-- Countable grants of an order (AI quota units, virtual currency): how much was granted, how
-- much is used, how much a refund took back. The AI service consumes quota units from here.
CREATE TABLE order_grants (
  order_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('ai_quota', 'currency')),
  target TEXT NOT NULL DEFAULT '',
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= quantity),
  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked >= 0 AND used + revoked <= quantity),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (order_id, kind, target)
) STRICT;
CREATE INDEX order_grants_user ON order_grants (user_id, kind);

-- What a `content` product unlocked for a user: one post, or every post with a tag.
CREATE TABLE content_unlocks (
  user_id TEXT NOT NULL,
  target_type TEXT NOT NULL CHECK (target_type IN ('post', 'tag')),
  target TEXT NOT NULL,
  order_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  PRIMARY KEY (user_id, target_type, target)
) STRICT;
CREATE INDEX content_unlocks_order ON content_unlocks (order_id);
