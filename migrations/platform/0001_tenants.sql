-- Tenants: one row per business served by this deployment.
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  -- provisioning | active | suspended | deleted
  status TEXT NOT NULL CHECK (status IN ('provisioning', 'active', 'suspended', 'deleted')),
  plan TEXT NOT NULL DEFAULT 'free',
  -- Where the tenant's libSQL database lives: provider ('local' | 'turso'), database name and URL.
  db_provider TEXT NOT NULL,
  db_name TEXT NOT NULL,
  db_url TEXT,
  -- The database credential, sealed with DB_ENCRYPTION_KEY (AES-GCM, tenant id as context).
  db_token_sealed TEXT,
  config TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  suspended_at INTEGER,
  deleted_at INTEGER
);
CREATE INDEX tenants_status ON tenants (status, id);

-- Plans a tenant can be on; limits are defaults a tenant's config can tighten.
CREATE TABLE plans (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  limits TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
INSERT INTO plans (id, name, limits, created_at) VALUES
  ('free', 'Free', '{"requestsPerMinute":600}', 0),
  ('pro', 'Pro', '{"requestsPerMinute":6000}', 0),
  ('enterprise', 'Enterprise', '{"requestsPerMinute":60000}', 0);

-- Idempotency keys of non-repeatable admin POSTs: the first request's response is replayed.
CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  -- NULL while the first request is still running.
  status INTEGER,
  response TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Per-tenant migration state as last observed by a runner, for the admin API and `npm run migrate`.
CREATE TABLE tenant_migrations (
  tenant_id TEXT NOT NULL REFERENCES tenants (id),
  version INTEGER NOT NULL,
  applied_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id)
);
