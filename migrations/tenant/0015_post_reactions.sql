-- Likes and bookmarks of posts (docs/content.md). One row per (post, user): the primary key makes
-- a repeated like a no-op, and the post's like_count/bookmark_count move in the same batch only
-- when a row was really inserted or deleted (changes()), so the counters stay exact under races.
CREATE TABLE post_likes (
  post_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_likes_recent ON post_likes (post_id, created_at, user_id);

CREATE TABLE post_bookmarks (
  post_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_bookmarks_user_recent ON post_bookmarks (user_id, created_at, post_id);
