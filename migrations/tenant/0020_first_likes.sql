-- Who ever liked what (docs/content.md, "Events"): one row per (kind, target, user), kept when the
-- like is taken back, so a like after an unlike counts and notifies no one again: "A and 12
-- others liked your post" counts people, and the statistics' likes count first likes.
CREATE TABLE first_likes (
  kind TEXT NOT NULL CHECK (kind IN ('post', 'comment')),
  target_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (kind, target_id, user_id)
);
