-- Accounts. Identifiers are stored canonical (lowercased, trimmed) so uniqueness is case-blind.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT UNIQUE,
  username TEXT UNIQUE,
  phone TEXT UNIQUE,
  password_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
  -- TOTP secret sealed with the platform key (context: tenant:user); set by setup, live once enabled.
  totp_secret_sealed TEXT,
  mfa_enabled INTEGER NOT NULL DEFAULT 0,
  -- Highest TOTP time step ever accepted: a step is never accepted twice (replay protection).
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER,
  CHECK (email IS NOT NULL OR username IS NOT NULL OR status = 'deleted')
);

CREATE TABLE recovery_codes (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at INTEGER,
  PRIMARY KEY (user_id, code_hash)
);

-- RBAC: roles hold resource:action permissions (wildcards allowed: '*', 'users:*').
CREATE TABLE roles (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  permissions TEXT NOT NULL,
  system INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
INSERT INTO roles (id, name, description, permissions, system, created_at, updated_at) VALUES
  ('owner', 'owner', 'Everything, including roles and signing keys', '["*"]', 1, 0, 0),
  ('admin', 'admin', 'Tenant administration', '["users:*","roles:*","api-keys:*","signing-keys:rotate","stats:read","notifications:announce","content:*"]', 1, 0, 0),
  ('moderator', 'moderator', 'Content and user moderation', '["users:read","users:suspend","content:moderate"]', 1, 0, 0),
  ('member', 'member', 'Every registered user', '[]', 1, 0, 0);

CREATE TABLE user_roles (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (role_id);

-- API keys for a tenant's own servers: shown once, stored as SHA-256 (they are 256-bit random).
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  permissions TEXT NOT NULL,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);

-- The tenant's JWT signing keys (ES256). Private keys sealed with the platform key.
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_jwk_sealed TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  -- Set when a newer key took over; the key still verifies until retired_at + max token TTL.
  retired_at INTEGER
);

-- Transactional outbox: domain events written with the change that caused them.
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  subject TEXT,
  data TEXT NOT NULL,
  traceparent TEXT,
  created_at INTEGER NOT NULL,
  published_at INTEGER
);
CREATE INDEX outbox_unpublished ON outbox (published_at, created_at);
