-- Tenant-wide settings as JSON values, e.g. key 'public' = the bootstrap info clients read
-- through GET /v1/tenant. Written by the platform when a tenant is created or updated.
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
