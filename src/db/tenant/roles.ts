import { and, asc, count, eq, gt } from "drizzle-orm";
import { errorChain } from "../../lib/errors";
import type { TenantDb } from "../client";
import { roles, userRoles, users, type RoleRow } from "./schema";

export async function listRoles(db: TenantDb, q: { after?: string | undefined; limit: number }): Promise<RoleRow[]> {
  return db
    .select()
    .from(roles)
    .where(q.after ? gt(roles.name, q.after) : undefined)
    .orderBy(asc(roles.name))
    .limit(q.limit)
    .all();
}

export async function findRole(db: TenantDb, id: string): Promise<RoleRow | undefined> {
  return db.select().from(roles).where(eq(roles.id, id)).get();
}

export async function findRolesByName(db: TenantDb, names: string[]): Promise<RoleRow[]> {
  const all = await db.select().from(roles).all();
  return all.filter((r) => names.includes(r.name));
}

export async function insertRole(db: TenantDb, row: RoleRow): Promise<void> {
  await db.insert(roles).values(row).run();
}

export async function updateRole(
  db: TenantDb,
  id: string,
  patch: Partial<Pick<RoleRow, "name" | "description" | "permissions" | "rank">>,
): Promise<RoleRow | undefined> {
  return db
    .update(roles)
    .set({ ...patch, updatedAt: Date.now() })
    .where(eq(roles.id, id))
    .returning()
    .get();
}

export async function deleteRole(db: TenantDb, id: string): Promise<void> {
  await db.batch([db.delete(userRoles).where(eq(userRoles.roleId, id)), db.delete(roles).where(eq(roles.id, id))]);
}

/** How many active users hold a role (the last active owner may not lose it). */
export async function activeHolders(db: TenantDb, roleId: string): Promise<number> {
  const r = await db
    .select({ n: count() })
    .from(userRoles)
    .innerJoin(users, eq(users.id, userRoles.userId))
    .where(and(eq(userRoles.roleId, roleId), eq(users.status, "active")))
    .get();
  return r?.n ?? 0;
}

/**
 * True for the abort of the triggers that keep a tenant's last active owner (migrations/tenant
 * /0011): whatever a request raced with, the database refused to leave the tenant ownerless.
 */
export function isLastOwnerAbort(err: unknown): boolean {
  return [...errorChain(err)].some(({ message }) => message.includes("last_owner"));
}
