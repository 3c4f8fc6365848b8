-- Payments (docs/commerce.md): a tenant's payment providers, wallet top-ups, and the provider
-- events already processed. A top-up credits the wallet only when its provider confirms it by a
-- verified webhook; the ledger's unique index on top_up_id makes that credit happen once.

-- Settings are public (which provider is active, a publishable key); secrets are sealed with the
-- platform key and never returned.
CREATE TABLE payment_providers (
  provider TEXT PRIMARY KEY CHECK (provider IN ('stripe', 'sandbox')),
  active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
  settings TEXT NOT NULL DEFAULT '{}',
  sealed TEXT,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX payment_providers_one_active ON payment_providers (active) WHERE active = 1;

CREATE TABLE top_ups (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_ref TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  checkout TEXT,
  failure TEXT,
  created_at INTEGER NOT NULL,
  completed_at INTEGER
) STRICT;
CREATE UNIQUE INDEX top_ups_ref ON top_ups (provider, provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX top_ups_user ON top_ups (user_id, id);

-- A succeeded top-up is final: a late or replayed failure cannot undo a credit.
CREATE TRIGGER top_ups_succeeded_final BEFORE UPDATE OF status ON top_ups
  WHEN OLD.status = 'succeeded' AND NEW.status <> 'succeeded'
BEGIN SELECT RAISE(ABORT, 'a succeeded top-up is final'); END;

-- Every verified provider event, once: a redelivered event id is recognised and does nothing.
CREATE TABLE payment_events (
  provider TEXT NOT NULL,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  top_up_id TEXT,
  outcome TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (provider, event_id)
) STRICT;
