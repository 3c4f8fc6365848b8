-- Comments on posts (docs/content.md), two levels: a top-level comment has parent_id NULL; a reply
-- has the id of the top-level comment it belongs to (a reply to a reply attaches to the top-level
-- comment, and reply_to_user_id names whom it answers). Soft delete: deleted_at set. A deleted
-- top-level comment with live replies stays as a tombstone; its reply_count counts live replies.
-- The post's comment_count counts live comments, replies included; like_count and reply_count
-- move in the same batch as the row change, guarded by changes(), so they stay exact.
CREATE TABLE comments (
  id TEXT PRIMARY KEY,
  post_id TEXT NOT NULL,
  author_id TEXT NOT NULL,
  parent_id TEXT,
  reply_to_user_id TEXT,
  body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'removed', 'under_review')),
  created_at INTEGER NOT NULL,
  deleted_at INTEGER,
  like_count INTEGER NOT NULL DEFAULT 0,
  reply_count INTEGER NOT NULL DEFAULT 0
);
-- Top-level comments of a post by time (oldest/newest) and by likes (top).
CREATE INDEX comments_top_recent ON comments (post_id, created_at, id) WHERE parent_id IS NULL;
CREATE INDEX comments_top_liked ON comments (post_id, like_count, id) WHERE parent_id IS NULL;
-- The replies of a top-level comment, oldest first.
CREATE INDEX comments_replies ON comments (parent_id, created_at, id) WHERE parent_id IS NOT NULL;
CREATE INDEX comments_author ON comments (author_id, created_at);

CREATE TABLE comment_likes (
  comment_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (comment_id, user_id)
);

-- The seeded moderator and admin roles may delete anyone's comment (`comments:moderate`).
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'comments:moderate'), updated_at = updated_at
  WHERE id IN ('admin', 'moderator') AND system = 1
    AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value IN ('comments:moderate', 'comments:*', '*'));
