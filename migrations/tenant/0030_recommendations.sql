-- Recommendations (docs/content.md, "Recommendations"): item-item collaborative filtering kept
-- incrementally by the `ai` queue's consumer (src/workers/ai/rec-consumer.ts).
-- A user's strongest interaction with a post: view 1, like 3, comment 4, bookmark 5 (the max of
-- the kinds seen; it never goes down: an unlike does not subtract).
CREATE TABLE rec_interactions (
  user_id TEXT NOT NULL,
  post_id TEXT NOT NULL,
  weight INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, post_id)
) STRICT;
-- A user's most recent interactions (the window pairs are counted over, and the candidates' seed).
CREATE INDEX rec_interactions_recent ON rec_interactions (user_id, updated_at);
-- Who else interacted with a post (users with shared interests).
CREATE INDEX rec_interactions_post ON rec_interactions (post_id);
-- Σ_u w(u,p): the norm of a post's column.
CREATE TABLE rec_item_norms (post_id TEXT PRIMARY KEY, total INTEGER NOT NULL) STRICT;
-- Σ_u min(w(u,p), w(u,q)), stored in both directions so neighbours of p are one range scan.
CREATE TABLE rec_item_pairs (
  post_id TEXT NOT NULL,
  other_id TEXT NOT NULL,
  co INTEGER NOT NULL,
  PRIMARY KEY (post_id, other_id)
) STRICT, WITHOUT ROWID;
-- Friendships mirrored from the user hubs' events (both directions), for friends of friends.
CREATE TABLE rec_friend_edges (
  user_id TEXT NOT NULL,
  friend_id TEXT NOT NULL,
  PRIMARY KEY (user_id, friend_id)
) STRICT;
