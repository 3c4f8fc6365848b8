-- Account deletion and erasure (docs/privacy.md). `deletion_due_at`: when a requested deletion
-- erases the account (NULL: none pending; set to the request time for an admin's deletion).
-- `erased_at`: when every step of the erasure finished; until then the minute sweep picks the
-- user again, so an erasure that failed part way is finished by a later run.
ALTER TABLE users ADD COLUMN deletion_due_at INTEGER;
ALTER TABLE users ADD COLUMN erased_at INTEGER;
CREATE INDEX users_deletion_due ON users (deletion_due_at) WHERE deletion_due_at IS NOT NULL AND erased_at IS NULL;

-- Erasure finds a user's archived messages by sender.
CREATE INDEX archived_messages_sender ON archived_messages (sender_id);

-- Accounts deleted before erasure existed (their row was stripped, the rest was kept): due now,
-- so the minute sweep erases what they left behind.
UPDATE users SET deletion_due_at = coalesce(deleted_at, 0) WHERE status = 'deleted';
