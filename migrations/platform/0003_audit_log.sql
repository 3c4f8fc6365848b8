-- The platform's audit log: every platform admin action (docs/privacy.md, "Audit log"). The
-- same table and rules as a tenant's (migrations/tenant/0033_audit_log.sql); the actor is the platform.
CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  actor_type TEXT NOT NULL CHECK (actor_type IN ('user', 'apiKey', 'platform')),
  actor_id TEXT,
  action TEXT NOT NULL,
  target_type TEXT,
  target_id TEXT,
  ip TEXT,
  user_agent TEXT,
  request_id TEXT,
  changes TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('pending', 'succeeded', 'failed')),
  -- A security event of an account (shown to its user by GET /v1/me/security-log).
  security INTEGER NOT NULL DEFAULT 0 CHECK (security IN (0, 1))
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at, id);
CREATE INDEX audit_log_target ON audit_log (target_id, at, id);
CREATE INDEX audit_log_action ON audit_log (action, at, id);

CREATE TRIGGER audit_log_close_only BEFORE UPDATE ON audit_log
WHEN old.outcome != 'pending' OR new.outcome = 'pending' OR new.id IS NOT old.id OR new.at IS NOT old.at
  OR new.actor_type IS NOT old.actor_type OR new.actor_id IS NOT old.actor_id OR new.action IS NOT old.action
  OR new.ip IS NOT old.ip OR new.user_agent IS NOT old.user_agent OR new.request_id IS NOT old.request_id
  OR new.security IS NOT old.security OR new.target_type IS NOT old.target_type
  OR (old.target_id IS NOT NULL AND new.target_id IS NOT old.target_id)
  OR (old.changes IS NOT NULL AND new.changes IS NOT old.changes)
BEGIN
  SELECT RAISE(ABORT, 'audit_log entries are append-only');
END;
-- INSERT OR REPLACE would delete the old row without firing the delete trigger: refused.
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = new.id)
BEGIN
  SELECT RAISE(ABORT, 'audit_log entries are append-only');
END;
CREATE TRIGGER audit_log_keep_a_day BEFORE DELETE ON audit_log
WHEN old.at > (unixepoch('subsec') * 1000 - 86400000)
BEGIN
  SELECT RAISE(ABORT, 'audit_log entries younger than a day cannot be deleted');
END;
