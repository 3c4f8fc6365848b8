-- Posts (docs/content.md). Markdown body, tags and media as JSON arrays (media: file ids of the
-- author's finished uploads, checked on write). Soft delete: deleted_at set, gone from every list.
-- The counters are kept by later stages (likes, comments, bookmarks); they start at 0.
CREATE TABLE posts (
  id TEXT PRIMARY KEY,
  author_id TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]',
  media TEXT NOT NULL DEFAULT '[]',
  visibility TEXT NOT NULL CHECK (visibility IN ('public', 'followers', 'friends', 'private')),
  status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'removed', 'under_review')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  edited_at INTEGER,
  published_at INTEGER,
  deleted_at INTEGER,
  like_count INTEGER NOT NULL DEFAULT 0,
  comment_count INTEGER NOT NULL DEFAULT 0,
  bookmark_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX posts_author_created ON posts (author_id, created_at, id);
CREATE INDEX posts_published ON posts (published_at, id) WHERE published_at IS NOT NULL;

-- One row per tag of a published post, for tag lists (a later stage serves them).
CREATE TABLE post_tags (
  tag TEXT NOT NULL,
  post_id TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  PRIMARY KEY (tag, post_id)
);
CREATE INDEX post_tags_recent ON post_tags (tag, published_at, post_id);

-- The seeded moderator and admin roles may delete anyone's post (`posts:moderate`).
UPDATE roles SET permissions = json_insert(permissions, '$[#]', 'posts:moderate'), updated_at = updated_at
  WHERE id IN ('admin', 'moderator') AND system = 1
    AND NOT EXISTS (SELECT 1 FROM json_each(roles.permissions) WHERE value IN ('posts:moderate', 'posts:*', '*'));
