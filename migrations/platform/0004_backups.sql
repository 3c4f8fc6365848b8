-- Tenant backups and restores (docs/operations.md, "Backup and restore"). A backup's parts and
-- manifest live in R2 under backups/<tenant id>/<backup id>/; this row is the index of them.
CREATE TABLE backups (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'scheduled')),
  schema_version INTEGER,
  parts INTEGER NOT NULL DEFAULT 0,
  rows INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  created_at INTEGER NOT NULL,
  finished_at INTEGER
) STRICT;
CREATE INDEX backups_tenant ON backups (tenant_id, id);

-- A restore of a backup into a new tenant; the new tenant's row stays `provisioning` (invisible)
-- until the restore is verified.
CREATE TABLE restores (
  id TEXT PRIMARY KEY,
  backup_id TEXT NOT NULL,
  source_tenant_id TEXT NOT NULL,
  into_tenant_id TEXT NOT NULL,
  into_slug TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  rows INTEGER NOT NULL DEFAULT 0,
  objects INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  created_at INTEGER NOT NULL,
  finished_at INTEGER
) STRICT;
