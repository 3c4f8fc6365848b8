-- In-app notifications. A burst of the same kind (messages in one conversation, friend
-- requests) collapses into one unread row: `group_key` names the burst, `count` grows and
-- `updated_at` moves it to the top. Read rows never collapse again (the partial unique index).
CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  type TEXT NOT NULL,
  group_key TEXT,
  actor_id TEXT,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  data TEXT NOT NULL DEFAULT '{}',
  count INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  read_at INTEGER,
  -- How the user was told: 'realtime' (an online device got a frame) or 'push' (push provider).
  delivered_via TEXT
);
CREATE INDEX notifications_user ON notifications (user_id, updated_at, id);
CREATE INDEX notifications_unread ON notifications (user_id, read_at);
CREATE UNIQUE INDEX notifications_collapse ON notifications (user_id, group_key) WHERE read_at IS NULL AND group_key IS NOT NULL;

-- Per-user preferences: notification types the user muted (no inbox entry, no push).
CREATE TABLE notification_prefs (
  user_id TEXT PRIMARY KEY,
  muted TEXT NOT NULL DEFAULT '[]',
  updated_at INTEGER NOT NULL
);

-- Announcements from tenant admins to every user or to one role.
CREATE TABLE announcements (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  role TEXT,
  created_by TEXT,
  created_at INTEGER NOT NULL
);

-- The message archive: every conversation log entry copied from its Conversation object by the
-- event pipeline (message.created), for search and export. The object stays the source of truth
-- for delivery and history; this copy is eventually consistent (seconds). Edits and recalls are
-- log entries too (kind 'edit' / 'recall', ref_id = the message they change) and are applied to
-- the original row whichever arrives first.
CREATE TABLE archived_messages (
  conversation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  sender_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  ref_id TEXT,
  -- The current body (JSON), NULL once recalled; `text` is what search indexes.
  body TEXT,
  text TEXT,
  sent_at INTEGER NOT NULL,
  edited_at INTEGER,
  recalled_at INTEGER,
  PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX archived_messages_id ON archived_messages (id);
CREATE INDEX archived_messages_ref ON archived_messages (ref_id) WHERE ref_id IS NOT NULL;
CREATE INDEX archived_messages_sent ON archived_messages (conversation_id, sent_at);

-- Full-text search over message text (trigram: substrings, CJK included; 3+ characters),
-- kept in sync with archived_messages by triggers.
CREATE VIRTUAL TABLE archived_messages_fts USING fts5 (text, content = 'archived_messages', content_rowid = 'rowid', tokenize = 'trigram');
CREATE TRIGGER archived_messages_ai AFTER INSERT ON archived_messages WHEN new.text IS NOT NULL BEGIN
  INSERT INTO archived_messages_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER archived_messages_au AFTER UPDATE OF text ON archived_messages BEGIN
  INSERT INTO archived_messages_fts (archived_messages_fts, rowid, text) SELECT 'delete', old.rowid, old.text WHERE old.text IS NOT NULL;
  INSERT INTO archived_messages_fts (rowid, text) SELECT new.rowid, new.text WHERE new.text IS NOT NULL;
END;
CREATE TRIGGER archived_messages_ad AFTER DELETE ON archived_messages WHEN old.text IS NOT NULL BEGIN
  INSERT INTO archived_messages_fts (archived_messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;

-- Exporting conversations is an admin task.
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'messages:export') WHERE id = 'admin';
