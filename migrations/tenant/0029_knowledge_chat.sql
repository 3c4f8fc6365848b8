-- The knowledge base and the customer-service chat (docs/ai.md, Knowledge base and chat).
--
-- kb_articles are written by tenant admins; deleted ones keep their row (deleted_at) but leave
-- the index in the same batch, so retrieval never finds them again. doc_key is the article's
-- rowid in kb_fts (a stable integer key: an implicit rowid may change on VACUUM).
CREATE TABLE kb_articles (
  doc_key INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  created_by TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  deleted_at INTEGER
) STRICT;
CREATE INDEX kb_articles_live ON kb_articles (updated_at, id) WHERE deleted_at IS NULL;

-- Token text made by src/db/tenant/search-tokens.ts (folded Latin words, CJK bigrams), as the
-- posts' search_fts (0017): contentless, rows deleted by rowid.
CREATE VIRTUAL TABLE kb_fts USING fts5 (
  title, body, tags, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE ai_chat_sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  title TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'handed_off')),
  conversation_id TEXT,
  created_at INTEGER NOT NULL,
  last_message_at INTEGER NOT NULL
) STRICT;
CREATE INDEX ai_chat_sessions_user ON ai_chat_sessions (user_id, last_message_at, id);

CREATE TABLE ai_chat_messages (
  id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES ai_chat_sessions (id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'complete' CHECK (status IN ('complete', 'partial', 'error')),
  degraded INTEGER NOT NULL DEFAULT 0 CHECK (degraded IN (0, 1)),
  sources TEXT NOT NULL DEFAULT '[]',
  units INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX ai_chat_messages_session ON ai_chat_messages (session_id, created_at, id);

-- What an answer was made from: the prompt sent and the articles retrieved. Kept
-- ai.chat.auditDays (a sweep deletes older rows); written in the batch that stores the answer.
CREATE TABLE ai_chat_audit (
  message_id TEXT PRIMARY KEY,
  prompt TEXT NOT NULL,
  retrieved_ids TEXT NOT NULL DEFAULT '[]',
  provider TEXT NOT NULL,
  model TEXT,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX ai_chat_audit_created ON ai_chat_audit (created_at);

-- The support role a chat hands off to (ai.chat.supportRole names it), ranked below moderator.
-- Not seeded over a tenant's own role of that name.
INSERT INTO roles (id, name, description, permissions, system, rank, created_at, updated_at)
  SELECT 'support', 'support', 'Answers chats handed off by the AI assistant', '["support:handle"]', 1, 40, 0, 0
  WHERE NOT EXISTS (SELECT 1 FROM roles WHERE id = 'support' OR name = 'support');
