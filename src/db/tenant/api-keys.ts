import { desc, eq, lt, and, isNull } from "drizzle-orm";
import type { TenantDb } from "../client";
import { apiKeys, roles, userRoles, users, type ApiKeyRow, type RoleRow, type UserRow } from "./schema";

export async function findApiKey(db: TenantDb, id: string): Promise<ApiKeyRow | undefined> {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
}

/** Records use at most once a minute per key, so a busy key does not write on every request. */
export async function touchApiKey(db: TenantDb, row: ApiKeyRow, now = Date.now()): Promise<void> {
  if (row.lastUsedAt !== null && now - row.lastUsedAt < 60_000) return;
  await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, row.id)).run();
}

export async function insertApiKey(db: TenantDb, row: ApiKeyRow): Promise<void> {
  await db.insert(apiKeys).values(row).run();
}

export async function listApiKeys(
  db: TenantDb,
  q: { before?: string | undefined; limit: number },
): Promise<ApiKeyRow[]> {
  const conds = [isNull(apiKeys.revokedAt)];
  if (q.before) conds.push(lt(apiKeys.id, q.before));
  return db
    .select()
    .from(apiKeys)
    .where(and(...conds))
    .orderBy(desc(apiKeys.id))
    .limit(q.limit)
    .all();
}

export async function revokeApiKey(db: TenantDb, id: string, now = Date.now()): Promise<boolean> {
  const res = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .run();
  return res.rowsAffected === 1;
}

/**
 * The account an API key answers to, as it is now: its status and roles (one query). Undefined
 * when no such user exists.
 */
export async function keyCreator(
  db: TenantDb,
  userId: string,
): Promise<{ status: UserRow["status"]; roles: RoleRow[] } | undefined> {
  const rows = await db
    .select({ status: users.status, leaving: users.deletionDueAt, role: roles })
    .from(users)
    .leftJoin(userRoles, eq(userRoles.userId, users.id))
    .leftJoin(roles, eq(roles.id, userRoles.roleId))
    .where(eq(users.id, userId))
    .all();
  if (!rows.length) return undefined;
  // An account whose deletion is pending acts through no key (its sessions ended with the request).
  const status = rows[0]!.leaving !== null && rows[0]!.status === "active" ? "suspended" : rows[0]!.status;
  return { status, roles: rows.flatMap((r) => (r.role ? [r.role] : [])) };
}
