-- Look-alike usernames: the UTS #39 skeleton of each username (src/lib/username-skeleton.ts),
-- unique within the tenant, so `аdmin` (Cyrillic а) cannot register beside `admin`. Written with
-- the username; existing rows are filled by the migration runner's backfill (src/db/tenant-migrate.ts).
ALTER TABLE users ADD COLUMN username_skeleton TEXT;
CREATE UNIQUE INDEX users_username_skeleton ON users (username_skeleton) WHERE username_skeleton IS NOT NULL;
