-- Conversations: the per-user index behind GET /v1/conversations. The Conversation Durable
-- Object (one per conversation) is the source of truth for members, the message log and read
-- cursors; these rows only say which conversations a user is in, so a list can be paged without
-- asking every object. Written after the object is created (idempotently, so a retried create
-- repairs a missing row).
CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('direct', 'group')),
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE conversation_members (
  user_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, conversation_id)
);
-- A user's conversations, newest joined first.
CREATE INDEX conversation_members_user ON conversation_members (user_id, joined_at, conversation_id);
