-- Tokens that may be redeemed once (the mfaToken of a sign-in): the jti is inserted in the same
-- transaction that accepts the second factor, so of any number of redemptions exactly one commits.
-- Rows are kept until the token would have expired anyway, then pruned by the hourly sweep.
CREATE TABLE consumed_tokens (
  jti TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX consumed_tokens_expiry ON consumed_tokens (expires_at);
