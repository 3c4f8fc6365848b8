-- The moderation review queue (docs/ai.md, Moderation): one item per text the pipeline held for
-- review (or a moderator blocked), wherever it lives: a post, a comment, a message, a nickname or
-- a bio. Decided by a moderator (`allowed`/`blocked`); a blocked item may be appealed once by its
-- author, which puts it back in the queue until the appeal is decided (`upheld`/`overturned`).
CREATE TABLE moderation_items (
  id TEXT PRIMARY KEY,
  target_type TEXT NOT NULL CHECK (target_type IN ('post', 'comment', 'message', 'nickname', 'bio')),
  target_id TEXT NOT NULL,
  conversation_id TEXT,
  author_id TEXT NOT NULL,
  excerpt TEXT NOT NULL,
  auto_decision TEXT NOT NULL CHECK (auto_decision IN ('review', 'block')),
  categories TEXT NOT NULL DEFAULT '[]',
  scores TEXT NOT NULL DEFAULT '{}',
  provider TEXT NOT NULL,
  degraded INTEGER NOT NULL DEFAULT 0 CHECK (degraded IN (0, 1)),
  status TEXT NOT NULL CHECK (status IN ('open', 'allowed', 'blocked')),
  decided_by TEXT,
  decided_at INTEGER,
  note TEXT,
  appeal_status TEXT CHECK (appeal_status IN ('open', 'upheld', 'overturned')),
  appeal_text TEXT,
  appealed_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
-- At most one live item per target: a held post edited again while held keeps its one item.
CREATE UNIQUE INDEX moderation_items_live ON moderation_items (target_type, target_id)
  WHERE status = 'open' OR appeal_status = 'open';
CREATE INDEX moderation_items_queue ON moderation_items (updated_at, id)
  WHERE status = 'open' OR appeal_status = 'open';
CREATE INDEX moderation_items_decided ON moderation_items (decided_at, id) WHERE decided_at IS NOT NULL;
CREATE INDEX moderation_items_author ON moderation_items (author_id, created_at);
