-- AI quotas (docs/ai.md). The period allowance lives in the Quota Durable Objects; what lives
-- here is what must agree with commerce in one transaction or be kept as a record.

-- Units a tenant admin granted a user: records, never deleted; spent like purchased packs
-- (order_grants of kind ai_quota), oldest first, after the period allowance.
CREATE TABLE ai_grants (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  quantity INTEGER NOT NULL CHECK (quantity > 0),
  used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked >= 0),
  reason TEXT NOT NULL,
  granted_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  CHECK (used + revoked <= quantity)
) STRICT;
CREATE INDEX ai_grants_user ON ai_grants (user_id, created_at);
CREATE TRIGGER ai_grants_no_delete BEFORE DELETE ON ai_grants BEGIN SELECT RAISE(ABORT, 'grants are records'); END;

-- Pack units held by a running call: already counted in the grant's `used` (so a refund cannot
-- revoke them in flight), returned by the call's settle or, if it never settles, by the sweep.
CREATE TABLE ai_pack_holds (
  reservation_id TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('order', 'grant')),
  grant_id TEXT NOT NULL,
  units INTEGER NOT NULL CHECK (units > 0),
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (reservation_id, source, grant_id)
) STRICT;
CREATE INDEX ai_pack_holds_expiry ON ai_pack_holds (expires_at);

-- One row per metered call (user_id NULL for the tenant's own automatic work): the audit of
-- what was reserved, what it cost and how it ended.
CREATE TABLE ai_calls (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  feature TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT,
  reserved INTEGER NOT NULL,
  units INTEGER NOT NULL,
  pack_units INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER,
  output_tokens INTEGER,
  status TEXT NOT NULL CHECK (status IN ('ok', 'degraded', 'aborted', 'error')),
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX ai_calls_user ON ai_calls (user_id, started_at);

-- Usage per quarter hour (UTC epoch ms of its start), user and feature: quarter hours make local
-- days exact in every UTC offset. user_id '' holds the tenant's own automatic work.
CREATE TABLE ai_usage_q (
  user_id TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  feature TEXT NOT NULL,
  units INTEGER NOT NULL,
  calls INTEGER NOT NULL,
  PRIMARY KEY (user_id, bucket, feature)
) STRICT;
CREATE INDEX ai_usage_q_time ON ai_usage_q (bucket, user_id);

-- The seeded admin role reads AI usage, grants quota, configures providers and the knowledge base.
UPDATE roles SET permissions = (
    SELECT json_group_array(value) FROM (
      SELECT value FROM json_each(roles.permissions)
      UNION ALL
      SELECT value FROM json_each('["ai:read","ai:grant","ai:configure","knowledge:write"]')
        WHERE value NOT IN (SELECT value FROM json_each(roles.permissions))
    )
  ), updated_at = updated_at
  WHERE id = 'admin' AND system = 1
    AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value = '*');
