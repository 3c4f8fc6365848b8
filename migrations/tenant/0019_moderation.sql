-- Reports and moderation of posts and comments (docs/content.md, "Reports and moderation").
-- One open report per reporter and item (the partial unique index): a second report of the same
-- item by the same user while the first is open answers the open one. Resolving a report
-- resolves every open report of the same item with the same outcome.
CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  target_type TEXT NOT NULL CHECK (target_type IN ('post', 'comment')),
  target_id TEXT NOT NULL,
  post_id TEXT NOT NULL,
  reporter_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'actioned')),
  created_at INTEGER NOT NULL,
  resolved_at INTEGER,
  resolved_by TEXT
);
CREATE UNIQUE INDEX reports_one_open ON reports (target_type, target_id, reporter_id) WHERE status = 'open';
CREATE INDEX reports_queue ON reports (status, created_at, id);
CREATE INDEX reports_target ON reports (target_type, target_id, status);

-- Held and removed posts, for the moderators' queues.
CREATE INDEX posts_moderation ON posts (status, updated_at, id) WHERE status IN ('under_review', 'removed');
CREATE INDEX comments_moderation ON comments (status, created_at, id) WHERE status <> 'published';
