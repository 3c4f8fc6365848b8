-- Role ranks: an actor may act on another user (suspend, resume, force sign-out, delete, change
-- roles) only when the actor's highest rank is above the target's (owners may act on owners);
-- nobody grants, edits or removes a role at or above their own rank. Seeded ranks: owner 100,
-- admin 80, moderator 50, member 0; custom roles take 1–99 (default 10). docs/identity.md.
ALTER TABLE roles ADD COLUMN rank INTEGER NOT NULL DEFAULT 10 CHECK (rank BETWEEN 0 AND 100);
UPDATE roles SET rank = 100 WHERE id = 'owner';
UPDATE roles SET rank = 80 WHERE id = 'admin';
UPDATE roles SET rank = 50 WHERE id = 'moderator';
UPDATE roles SET rank = 0 WHERE id = 'member';

-- An API key acts with the rank of the user who created it (never above its creator).
ALTER TABLE api_keys ADD COLUMN rank INTEGER NOT NULL DEFAULT 0;
UPDATE api_keys SET rank = coalesce(
  (SELECT max(r.rank) FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = api_keys.created_by), 0);

-- The tenant always keeps an active owner, whatever path a change takes and however requests
-- race: taking the owner role from, or suspending or deleting, the last active owner aborts.
CREATE TRIGGER keep_an_owner_role BEFORE DELETE ON user_roles
WHEN OLD.role_id = 'owner'
  AND (SELECT status FROM users WHERE id = OLD.user_id) = 'active'
  AND NOT EXISTS (
    SELECT 1 FROM user_roles ur JOIN users u ON u.id = ur.user_id
    WHERE ur.role_id = 'owner' AND u.status = 'active' AND ur.user_id != OLD.user_id)
BEGIN
  SELECT RAISE(ABORT, 'last_owner');
END;

CREATE TRIGGER keep_an_owner_status BEFORE UPDATE OF status ON users
WHEN OLD.status = 'active' AND NEW.status != 'active'
  AND EXISTS (SELECT 1 FROM user_roles WHERE user_id = OLD.id AND role_id = 'owner')
  AND NOT EXISTS (
    SELECT 1 FROM user_roles ur JOIN users u ON u.id = ur.user_id
    WHERE ur.role_id = 'owner' AND u.status = 'active' AND ur.user_id != OLD.id)
BEGIN
  SELECT RAISE(ABORT, 'last_owner');
END;
