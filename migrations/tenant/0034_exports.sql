-- Data exports (docs/privacy.md, "Export"): a user's copy of their data, built by a queue consumer
-- into one ZIP in R2. `requested_by`: the admin who asked for it (NULL: the user themself; a user
-- may ask once per 24 hours). The archive is deleted from R2 when it expires.
CREATE TABLE data_exports (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  requested_by TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
  r2_key TEXT,
  size INTEGER,
  error TEXT,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  expires_at INTEGER
) STRICT;
CREATE INDEX data_exports_user ON data_exports (user_id, created_at);
CREATE INDEX data_exports_expiry ON data_exports (expires_at) WHERE r2_key IS NOT NULL;
