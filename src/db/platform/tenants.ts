import { and, desc, eq, lt, ne } from "drizzle-orm";
import type { PlatformDb } from "../client";
import { tenants, tenantMigrations, type TenantRow, type TenantStatus } from "./schema";

/** Tenant rows by slug, id and page; writes are whole-field updates with updated_at bumped. */
export async function findTenantBySlug(db: PlatformDb, slug: string): Promise<TenantRow | undefined> {
  return db.select().from(tenants).where(eq(tenants.slug, slug)).get();
}

export async function findTenantById(db: PlatformDb, id: string): Promise<TenantRow | undefined> {
  return db.select().from(tenants).where(eq(tenants.id, id)).get();
}

export async function insertTenant(db: PlatformDb, row: TenantRow): Promise<void> {
  await db.insert(tenants).values(row).run();
}

export async function updateTenant(
  db: PlatformDb,
  id: string,
  patch: Partial<Omit<TenantRow, "id" | "slug" | "createdAt">>,
): Promise<TenantRow | undefined> {
  return db
    .update(tenants)
    .set({ ...patch, updatedAt: Date.now() })
    .where(eq(tenants.id, id))
    .returning()
    .get();
}

export async function deleteTenantRow(db: PlatformDb, id: string): Promise<void> {
  await db.delete(tenantMigrations).where(eq(tenantMigrations.tenantId, id)).run();
  await db.delete(tenants).where(eq(tenants.id, id)).run();
}

/** Newest first; `before` is the id of the last row of the previous page (ids are time-ordered). */
export async function listTenantRows(
  db: PlatformDb,
  opts: { limit: number; before?: string; status?: TenantStatus },
): Promise<TenantRow[]> {
  const conds = [opts.status ? eq(tenants.status, opts.status) : ne(tenants.status, "provisioning")];
  if (opts.before) conds.push(lt(tenants.id, opts.before));
  return db
    .select()
    .from(tenants)
    .where(and(...conds))
    .orderBy(desc(tenants.id))
    .limit(opts.limit)
    .all();
}

/** All tenants with a database, for `npm run migrate`. */
export async function allMigratableTenants(db: PlatformDb): Promise<TenantRow[]> {
  return db.select().from(tenants).where(ne(tenants.status, "provisioning")).orderBy(tenants.id).all();
}

export async function recordTenantVersion(db: PlatformDb, tenantId: string, version: number): Promise<void> {
  await db
    .insert(tenantMigrations)
    .values({ tenantId, version, appliedAt: Date.now() })
    .onConflictDoUpdate({ target: tenantMigrations.tenantId, set: { version, appliedAt: Date.now() } })
    .run();
}

/** The tenant DB version a runner last recorded (0 if none). */
export async function recordedTenantVersion(db: PlatformDb, tenantId: string): Promise<number> {
  const row = await db
    .select({ v: tenantMigrations.version })
    .from(tenantMigrations)
    .where(eq(tenantMigrations.tenantId, tenantId))
    .get();
  return row?.v ?? 0;
}
