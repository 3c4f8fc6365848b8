-- Feeds and views (docs/content.md).
-- A post's views: at most one per viewer per post per hour. post_viewers keeps each viewer's last
-- counted view; a view counts (view_count + 1, in the same batch) only when the last one counted
-- is an hour old or more.
ALTER TABLE posts ADD COLUMN view_count INTEGER NOT NULL DEFAULT 0;
CREATE TABLE post_viewers (
  post_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  counted_at INTEGER NOT NULL,
  PRIMARY KEY (post_id, user_id)
);

-- The following feed reads each followed author's published posts newest first.
CREATE INDEX posts_author_published ON posts (author_id, published_at, id)
  WHERE status = 'published' AND deleted_at IS NULL;
-- The hot feed reads the tenant's recent published posts.
CREATE INDEX posts_live_published ON posts (published_at, id) WHERE status = 'published' AND deleted_at IS NULL;
