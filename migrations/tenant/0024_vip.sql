-- VIP memberships (docs/commerce.md, VIP). A user's membership is a schedule of periods, each
-- of one level; the level at any instant is computed from them (the highest running period), so
-- a request after expiresAt sees the downgrade whether or not the sweep has run. Periods are
-- never rewritten: a change revokes rows and adds new ones (history stays readable).
CREATE TABLE vip_periods (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  level INTEGER NOT NULL CHECK (level >= 1),
  starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),
  value_amount INTEGER NOT NULL DEFAULT 0 CHECK (value_amount >= 0),
  value_currency TEXT,
  source TEXT NOT NULL CHECK (source IN ('order', 'conversion', 'admin')),
  order_id TEXT,
  revoked_at INTEGER,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX vip_periods_user ON vip_periods (user_id, ends_at) WHERE revoked_at IS NULL;
CREATE INDEX vip_periods_order ON vip_periods (order_id) WHERE order_id IS NOT NULL;

-- One row per user who ever had a period: `version` serialises changes to the schedule (a plan
-- applies only at the version it was made from); `announced_*` is what vip.changed last said;
-- `next_check_at` is when the sweep should look again (a boundary, or three days before expiry).
CREATE TABLE vip_members (
  user_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL DEFAULT 0,
  announced_level INTEGER NOT NULL DEFAULT 0,
  announced_expires_at INTEGER,
  next_check_at INTEGER
) STRICT;
CREATE INDEX vip_members_due ON vip_members (next_check_at) WHERE next_check_at IS NOT NULL;

-- vip.expiring goes out once per expiry instant.
CREATE TABLE vip_notices (
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('expiring')),
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, kind, expires_at)
) STRICT;
