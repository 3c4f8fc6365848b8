-- Profiles: created with the account (one row per user), what a chat app shows.
CREATE TABLE profiles (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  nickname TEXT NOT NULL DEFAULT '',
  avatar_file_id TEXT,
  bio TEXT NOT NULL DEFAULT '',
  locale TEXT NOT NULL DEFAULT '',
  gender TEXT NOT NULL DEFAULT '',
  birthday TEXT,
  region TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL
);

-- Per-user settings as JSON (privacy, notifications), validated by the users service.
CREATE TABLE user_settings (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  value TEXT NOT NULL,
  -- Denormalised from value.privacy.searchable so search can filter in SQL.
  searchable INTEGER NOT NULL DEFAULT 1,
  updated_at INTEGER NOT NULL
);

-- Search over username and nickname: FTS5 trigram (substring, CJK included) for queries of 3+
-- characters; shorter queries use LIKE on the same columns. Kept in sync by the service.
CREATE VIRTUAL TABLE user_search USING fts5 (user_id UNINDEXED, username, nickname, tokenize = 'trigram');

-- One-way follows (content feeds).
CREATE TABLE follows (
  follower_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  followee_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, created_at);
CREATE INDEX follows_follower ON follows (follower_id, created_at);

-- Mirror of the block lists held in each user's hub, for filtering in SQL (search, profiles,
-- follows). The hub is the source of truth; the mirror is written after it and repaired from it.
CREATE TABLE blocks (
  blocker_id TEXT NOT NULL,
  blocked_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);
