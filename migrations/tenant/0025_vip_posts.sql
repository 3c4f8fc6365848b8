-- VIP-only posts (docs/commerce.md, VIP; docs/content.md): a post with min_vip_level > 0 is
-- listed like a public one (the API shows its visibility as "vip"), and its body, media and
-- comments are locked for viewers below that level who have not unlocked it. Stored beside the
-- public visibility so the visibility rules and their CHECK stay as they are.
ALTER TABLE posts ADD COLUMN min_vip_level INTEGER NOT NULL DEFAULT 0 CHECK (min_vip_level >= 0);
