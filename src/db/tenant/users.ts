import { and, desc, eq, inArray, lt, or, type SQLWrapper, sql } from "drizzle-orm";
import type { SearchQuery } from "../../lib/search-query";
import type { TenantDb } from "../client";
import { preparedOn } from "../prepared";
import { liveVipLevel } from "./vip";
import { outboxInsert, type DomainEvent } from "./outbox";
import { defaultSettings } from "../../lib/user-settings";
import { iso } from "../../lib/time";
import { profiles, roles, userRoles, userSettings, users, type RoleRow, type UserRow } from "./schema";

/** Canonical form of an identifier: trimmed, NFKC, lowercased (uniqueness is case-blind). */
export const canonical = (s: string) => s.normalize("NFKC").trim().toLowerCase();

/** What an access token says of its user besides who it is (tokenFactsOf). */
export interface TokenFacts {
  roles: string[];
  vip: number;
}

/**
 * The columns of {@link TokenFacts} for the user `userId` (a value, or a column of an outer
 * query) at `now`: the names of the user's roles as a sorted JSON array, and the VIP level live
 * at `now` (./vip's rule).
 */
function tokenFactColumns(userId: SQLWrapper | string, now: SQLWrapper | number) {
  return {
    roles: sql<string>`(SELECT json_group_array(name) FROM (SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
      WHERE ur.user_id = ${userId} ORDER BY r.name))`,
    vip: liveVipLevel(userId, now),
  };
}

const factsOf = (row: { roles: string; vip: number }): TokenFacts => ({
  roles: JSON.parse(row.roles) as string[],
  vip: Number(row.vip),
});

/**
 * The account an identifier (email, username or phone, already {@link canonical}: the caller's
 * throttle keys use the same form) names, with its token facts at `now`, in one statement: a
 * sign-in reads both, and one round trip is cheaper than two.
 */
export async function findSignInUser(
  db: TenantDb,
  canonicalId: string,
  now: number,
): Promise<{ user: UserRow; facts: TokenFacts } | undefined> {
  const query = preparedOn(db, "users.signIn", (d) => {
    const id = sql.placeholder("id");
    return (
      d
        // Qualified: drizzle writes a lone table's columns bare, and a bare "id" in the subquery is roles.id.
        .select({ user: users, ...tokenFactColumns(sql`"users"."id"`, sql.placeholder("now")) })
        .from(users)
        .where(or(eq(users.email, id), eq(users.username, id), eq(users.phone, id)))
        .prepare()
    );
  });
  const row = await query.get({ id: canonicalId, now });
  return row && { user: row.user, facts: factsOf(row) };
}

export async function findUserById(db: TenantDb, id: string): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.id, id)).get();
}

/**
 * Inserts a user with its roles and its `user.registered` event in one batch (one transaction):
 * a UNIQUE violation on email/username/phone rejects all of it.
 */
export async function insertUser(db: TenantDb, row: UserRow, roleIds: string[], event: DomainEvent): Promise<void> {
  const nickname = row.username ?? row.email?.split("@")[0] ?? "";
  const settings = defaultSettings();
  await db.batch([
    db.insert(users).values(row),
    // The profile, settings and search entry are created with the account, in the same batch.
    db
      .insert(profiles)
      .values({ userId: row.id, nickname, bio: "", locale: "", gender: "", region: "", updatedAt: row.createdAt }),
    db.insert(userSettings).values({
      userId: row.id,
      value: JSON.stringify(settings),
      searchable: settings.privacy.searchable,
      updatedAt: row.createdAt,
    }),
    db.run(
      sql`INSERT INTO user_search (user_id, username, nickname) VALUES (${row.id}, ${row.username ?? ""}, ${nickname})`,
    ),
    ...roleIds.map((roleId) => db.insert(userRoles).values({ userId: row.id, roleId })),
    outboxInsert(db, event, row.createdAt),
  ]);
}

export async function updateUser(
  db: TenantDb,
  id: string,
  patch: Partial<Omit<UserRow, "id" | "createdAt">>,
): Promise<void> {
  await db
    .update(users)
    .set({ ...patch, updatedAt: Date.now() })
    .where(eq(users.id, id))
    .run();
}

/** The user's roles (names and permissions), read fresh so a demotion applies to the next request. */
export async function rolesOfUser(db: TenantDb, userId: string): Promise<RoleRow[]> {
  return db
    .select({ r: roles })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(eq(userRoles.userId, userId))
    .all()
    .then((rows) => rows.map((x) => x.r));
}

/** The user's {@link TokenFacts} at `now`, in one statement (one round trip, where the roles and the VIP level would take two). */
export async function tokenFactsOf(db: TenantDb, userId: string, now: number): Promise<TokenFacts> {
  const c = tokenFactColumns(userId, now);
  return factsOf(await db.get<{ roles: string; vip: number }>(sql`SELECT ${c.roles} AS roles, ${c.vip} AS vip`));
}

/**
 * Accepts a TOTP time step only if it is newer than every step accepted before, atomically:
 * of ten parallel submissions of one code, exactly one UPDATE matches.
 */
export async function claimTotpStep(db: TenantDb, userId: string, step: number): Promise<boolean> {
  const res = await totpStepClaim(db, userId, step).run();
  return res.rowsAffected === 1;
}

/** The UPDATE of {@link claimTotpStep}, for a batch (it changes one row or none). */
export function totpStepClaim(db: TenantDb, userId: string, step: number) {
  return db
    .update(users)
    .set({ totpLastStep: step })
    .where(and(eq(users.id, userId), lt(users.totpLastStep, step)));
}

/** Tenant-admin search: by email/username prefix or substring, newest first, cursor on id. */
export async function searchUsers(
  db: TenantDb,
  q: { text?: SearchQuery | undefined; before?: string | undefined; limit: number },
): Promise<UserRow[]> {
  const conds = [sql`${users.status} != 'deleted'`];
  if (q.text) {
    const pattern = q.text.like;
    conds.push(
      or(
        sql`${users.email} LIKE ${pattern} ESCAPE '\\'`,
        sql`${users.username} LIKE ${pattern} ESCAPE '\\'`,
        sql`${users.id} IN (SELECT ${profiles.userId} FROM ${profiles} WHERE lower(${profiles.nickname}) LIKE ${pattern} ESCAPE '\\')`,
        eq(users.id, q.text.text),
      )!,
    );
  }
  if (q.before) conds.push(lt(users.id, q.before));
  return db
    .select()
    .from(users)
    .where(and(...conds))
    .orderBy(desc(users.id))
    .limit(q.limit)
    .all();
}

/** The nicknames of these users (a user without a profile has none). */
export async function nicknamesOf(db: TenantDb, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select({ id: profiles.userId, nickname: profiles.nickname })
    .from(profiles)
    .where(inArray(profiles.userId, ids))
    .all();
  return new Map(rows.map((r) => [r.id, r.nickname]));
}

export async function roleIdsOf(db: TenantDb, userId: string): Promise<string[]> {
  return (await db.select({ id: userRoles.roleId }).from(userRoles).where(eq(userRoles.userId, userId)).all()).map(
    (r) => r.id,
  );
}

/**
 * Replaces a user's roles in one batch: only the roles taken away are deleted and only the new
 * ones inserted, so a role the user keeps is never momentarily gone (the last-owner trigger
 * would rightly refuse that).
 */
export async function setUserRoles(
  db: TenantDb,
  userId: string,
  roleIds: string[],
  event: DomainEvent,
  currentIds?: string[],
): Promise<void> {
  // The caller may already hold the current roles (it checked them): no second read then.
  const current = currentIds ?? (await roleIdsOf(db, userId));
  const removed = current.filter((id) => !roleIds.includes(id));
  const added = roleIds.filter((id) => !current.includes(id));
  await db.batch([
    outboxInsert(db, event),
    ...(removed.length
      ? [db.delete(userRoles).where(and(eq(userRoles.userId, userId), inArray(userRoles.roleId, removed)))]
      : []),
    ...added.map((roleId) => db.insert(userRoles).values({ userId, roleId }).onConflictDoNothing()),
  ]);
}

export async function rolesByIds(db: TenantDb, ids: string[]): Promise<RoleRow[]> {
  return ids.length ? db.select().from(roles).where(inArray(roles.id, ids)).all() : [];
}

/** A page of user ids after `after`, in id order (for sweeps over every user). */
export async function userIdsAfter(db: TenantDb, after: string, limit: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`SELECT id FROM users WHERE id > ${after} ORDER BY id LIMIT ${limit}`);
  return rows.map((r) => r.id);
}

/** How users are named to others: nickname, else username, else "Someone". */
export async function displayNames(db: TenantDb, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db.all<{ id: string; name: string }>(sql`
    SELECT u.id AS id, coalesce(nullif(p.nickname, ''), u.username, 'Someone') AS name
    FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.id IN ${ids}`);
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** Active owners and admins (at most `limit`), who receive the tenant's operational notices. */
export async function activeAdminIds(db: TenantDb, limit: number): Promise<string[]> {
  const rows = await db.all<{ user_id: string }>(sql`
    SELECT DISTINCT ur.user_id FROM user_roles ur JOIN users u ON u.id = ur.user_id
    WHERE ur.role_id IN ('owner', 'admin') AND u.status = 'active' LIMIT ${limit}`);
  return rows.map((r) => r.user_id);
}

/** Which of `ids` are active users of the tenant. */
export async function activeUserIds(db: TenantDb, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(inArray(users.id, ids), eq(users.status, "active")))
    .all();
  return new Set(rows.map((r) => r.id));
}

/** The account whose email is `email` (canonical form), if any. */
export function findUserByEmail(db: TenantDb, email: string): Promise<UserRow | undefined> {
  return db
    .select()
    .from(users)
    .where(eq(users.email, canonical(email)))
    .get();
}

/** Sets a password and writes its event (the "password changed" notice) in one transaction. */
export async function setPassword(db: TenantDb, id: string, passwordHash: string, event: DomainEvent): Promise<void> {
  const now = Date.now();
  await db.batch([
    db.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, id)),
    outboxInsert(db, event, now),
  ]);
}

/** The active users with these usernames (compared in canonical form), as ids. */
export async function activeIdsByUsername(db: TenantDb, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(inArray(users.username, [...new Set(names.map(canonical))]), eq(users.status, "active")))
    .all();
  return rows.map((r) => r.id);
}

/** A user's own account (GET /v1/me, and the account record of a data export): never secrets. */
export function ownAccount(user: UserRow, roles: Pick<RoleRow, "name">[]) {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
    username: user.username,
    phone: user.phone,
    status: user.status,
    roles: roles.map((r) => r.name),
    mfaEnabled: user.mfaEnabled,
    createdAt: iso(user.createdAt),
  };
}
