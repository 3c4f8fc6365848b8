import { and, asc, count, eq, gt } from "drizzle-orm";
import type { TenantDb } from "../client";
import { roles, userRoles, type RoleRow } from "./schema";

export async function listRoles(db: TenantDb, q: { after?: string | undefined; limit: number }): Promise<RoleRow[]> {
  return db.select().from(roles).where(q.after ? gt(roles.name, q.after) : undefined).orderBy(asc(roles.name)).limit(q.limit).all();
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

export async function updateRole(db: TenantDb, id: string, patch: Partial<Pick<RoleRow, "name" | "description" | "permissions">>): Promise<RoleRow | undefined> {
  return db.update(roles).set({ ...patch, updatedAt: Date.now() }).where(eq(roles.id, id)).returning().get();
}

export async function deleteRole(db: TenantDb, id: string): Promise<void> {
  await db.batch([db.delete(userRoles).where(eq(userRoles.roleId, id)), db.delete(roles).where(eq(roles.id, id))]);
}

/** How many users hold a role (the last owner may not lose it). */
export async function holders(db: TenantDb, roleId: string): Promise<number> {
  const r = await db.select({ n: count() }).from(userRoles).where(and(eq(userRoles.roleId, roleId))).get();
  return r?.n ?? 0;
}
