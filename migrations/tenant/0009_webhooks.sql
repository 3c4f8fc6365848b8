-- Tenant webhooks (Standard Webhooks). An endpoint subscribes to event types (exact, a prefix
-- wildcard such as 'friend.*', or '*'). It is disabled automatically after a long run of failed
-- attempts; `consecutive_failures` and `failing_since` describe the current run (a success
-- clears both).
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  -- JSON array of type patterns.
  event_types TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  disabled_reason TEXT,
  disabled_at INTEGER,
  max_attempts INTEGER NOT NULL DEFAULT 8,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  failing_since INTEGER,
  last_success_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Signing secrets, sealed (AES-GCM, bound to the tenant and endpoint). The current one has no
-- expiry; after a rotation the previous ones keep signing alongside it until `expires_at`, so
-- receivers can switch secrets without dropping a delivery.
CREATE TABLE webhook_secrets (
  id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL,
  sealed TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE INDEX webhook_secrets_endpoint ON webhook_secrets (endpoint_id, created_at);

-- One message per (endpoint, event): its id is the `webhook-id` header, the same on every
-- attempt, and a redelivered event hits the unique key instead of making a second message.
-- A pending row is due when `next_attempt_at` has passed; whoever attempts it first pushes
-- `next_attempt_at` forward by a lease, so the consumer and the sweeper never send it twice.
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_attempt_at INTEGER,
  last_response_status INTEGER,
  last_error TEXT,
  last_duration_ms INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_age ON webhook_deliveries (created_at);

-- Every attempt of a delivery, for the tenant's view of what happened (kept as long as the delivery).
CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('event', 'retry', 'manual', 'test')),
  attempted_at INTEGER NOT NULL,
  response_status INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, n)
);

-- Managing webhooks is an admin task.
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'webhooks:*') WHERE id = 'admin';
