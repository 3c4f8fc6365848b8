-- Accounts by email (docs/identity.md, "Email flows").
-- When the account's email address was proven (a link or code from a verification, a sign-in
-- code, or a confirmed change). NULL: unproven; a change of address sets it anew.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

-- One row per email challenge: a verification, a password reset, a sign-in code, the
-- confirmation of a new address and the undo link sent to the old one. The link token is stored
-- as its SHA-256, the 6-digit code as a keyed hash (HMAC with the row id), never in clear. The
-- sealed copy (AES-GCM under DB_ENCRYPTION_KEY) lets a retried send repeat the same email, and is
-- erased once the mail went out. One row per (event, purpose): a redelivered event makes none.
CREATE TABLE email_challenges (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL,
  purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'password_reset', 'sign_in_code', 'email_change', 'email_undo')),
  user_id TEXT NOT NULL,
  -- The address the mail goes to (the new one for email_change, the old one for email_undo).
  email TEXT NOT NULL,
  token_hash TEXT,
  code_hash TEXT,
  sealed TEXT,
  -- email_change / email_undo: {"oldEmail": …, "newEmail": …}
  data TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  sent_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX email_challenges_event ON email_challenges (event_id, purpose);
CREATE UNIQUE INDEX email_challenges_token ON email_challenges (token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX email_challenges_user ON email_challenges (user_id, purpose, created_at);
CREATE INDEX email_challenges_expiry ON email_challenges (expires_at);

-- The email channel's digest: notifications waiting for a user's next digest (at most one an
-- hour), and when each user's last digest went out.
CREATE TABLE email_digest_items (
  user_id TEXT NOT NULL,
  notification_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, notification_id)
) WITHOUT ROWID;
CREATE TABLE email_digest_sent (
  user_id TEXT PRIMARY KEY,
  sent_at INTEGER NOT NULL
) WITHOUT ROWID;
