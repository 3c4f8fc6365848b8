import type { PlatformDb } from "../../db/client";
import { currentVersion } from "../../db/migrator";
import { migrateTenant, appliedMigrations } from "../../db/tenant-migrate";
import { tenantMigrations as tenantMigrationSet } from "../../db/migrations.gen";
import { provisionerFor, type Provisioner } from "../../db/provisioner";
import type { TenantRow, TenantStatus } from "../../db/platform/schema";
import {
  deleteTenantRow,
  findTenantBySlug,
  listTenantRows,
  recordTenantVersion,
  updateTenant,
} from "../../db/platform/tenants";
import { tenantClient, tenantDb, tenantDbLocation } from "../../db/tenant-db";
import { writePublicInfo } from "../../db/tenant/settings";
import { createAccount } from "../../db/tenant/accounts";
import { checkPasswordPolicy } from "../../lib/password-policy";
import type { Pager } from "../../lib/cursor";
import { AppError } from "../../lib/errors";
import { log } from "../../lib/log";
import {
  defaultTenantConfig,
  mergeConfig,
  parseStoredConfig,
  type TenantConfig,
  type TenantConfigPatch,
} from "../../lib/tenant-config";
import { ZodError } from "zod";
import { validationError } from "../gateway/http";
import { abandonTenant, activateTenant, provisionDatabase, reserveTenant } from "../tenancy/provision";
import type { TenantView } from "./schemas";
import { iso, isoOrNull } from "../../lib/time";

/**
 * A patch laid over a config. Some limits hold only for the merged whole (the number of feature
 * flags, of template locales, the templates' total size), so the merge can refuse what the patch
 * alone passed: that is the caller's invalid input (400 validation_failed), not a server error.
 */
function mergedConfig(base: TenantConfig, patch: TenantConfigPatch): TenantConfig {
  try {
    return mergeConfig(base, patch);
  } catch (err) {
    if (err instanceof ZodError) throw validationError(err, "config (once merged)");
    throw err;
  }
}

/** The admin API's view of a tenant row: never the database credential. */
export function toView(row: TenantRow): TenantView {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    status: row.status === "provisioning" ? "active" : row.status,
    plan: row.plan,
    config: parseStoredConfig(row.config),
    database: { provider: row.dbProvider, name: row.dbName, url: row.dbUrl },
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    suspendedAt: isoOrNull(row.suspendedAt),
    deletedAt: isoOrNull(row.deletedAt),
  };
}

/** A visible tenant by slug (provisioning rows are invisible), or 404. */
export async function getTenant(db: PlatformDb, slug: string): Promise<TenantRow> {
  const row = await findTenantBySlug(db, slug);
  if (!row || row.status === "provisioning") throw new AppError("tenant_not_found", `No tenant with slug '${slug}'.`);
  return row;
}

export interface CreateTenantInput {
  slug: string;
  name: string;
  plan: string;
  config?: TenantConfigPatch | undefined;
  owner?: { email: string; password: string } | undefined;
}

/**
 * Creates a tenant (tenancy/provision.ts): reserve the slug, create and migrate its database,
 * the owner's account, then active. A failure undoes what was done, so the call can be retried.
 */
export async function createTenant(
  env: Env,
  db: PlatformDb,
  input: CreateTenantInput,
  provisioner: Provisioner = provisionerFor(env),
): Promise<TenantRow> {
  const config = mergedConfig(defaultTenantConfig(), input.config ?? {});
  if (input.owner) checkPasswordPolicy(input.owner.password, [input.owner.email]);
  const row = await reserveTenant(db, provisioner, { ...input, config });
  try {
    const provisioned = await provisionDatabase(env, row, provisioner);
    if (input.owner) await createAccount(tenantDb(provisioned.loc), input.owner, ["owner", "member"]);
    return await activateTenant(env, db, row, config, provisioned);
  } catch (err) {
    log("error", "tenant provisioning failed", { tenant: input.slug, error: String(err) });
    await abandonTenant(db, provisioner, row);
    throw new AppError(
      "provisioning_failed",
      "The tenant's database could not be provisioned; nothing was kept, retry later.",
    );
  }
}

export async function listTenants(
  db: PlatformDb,
  pg: Pager<"id">,
  q: { limit: number; cursor?: string | undefined; status?: TenantStatus | undefined },
) {
  const before = (await pg.after(q.cursor))?.[0];
  const rows = await listTenantRows(db, { limit: q.limit + 1, before, status: q.status });
  const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
  return { items: page.map(toView), nextCursor };
}

/** Updates name, plan or config; the public info in the tenant DB follows. */
export async function updateTenantDetails(
  env: Env,
  db: PlatformDb,
  slug: string,
  patch: { name?: string | undefined; plan?: string | undefined; config?: TenantConfigPatch | undefined },
): Promise<{ before: TenantRow; updated: TenantRow }> {
  const row = await getTenant(db, slug);
  if (row.status === "deleted") throw new AppError("tenant_deleted", "A deleted tenant cannot be changed.");
  const config = patch.config
    ? mergedConfig(parseStoredConfig(row.config), patch.config)
    : parseStoredConfig(row.config);
  const updated = (await updateTenant(db, row.id, {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.plan !== undefined ? { plan: patch.plan } : {}),
    config: JSON.stringify(config),
  }))!;
  const loc = await tenantDbLocation(env, updated);
  await writePublicInfo(tenantDb(loc), { name: updated.name, features: config.features, signIn: config.signIn });
  return { before: row, updated };
}

/** Moves a tenant between active, suspended and deleted, with the allowed transitions only. */
export async function setTenantStatus(
  db: PlatformDb,
  slug: string,
  to: "active" | "suspended" | "deleted",
): Promise<TenantRow> {
  const row = await getTenant(db, slug);
  if (row.status === to) return row;
  if (row.status === "deleted")
    throw new AppError("tenant_deleted", "A deleted tenant cannot be changed; purge it or keep it.");
  const now = Date.now();
  const patch =
    to === "suspended"
      ? { status: to, suspendedAt: now }
      : to === "deleted"
        ? { status: to, deletedAt: now }
        : { status: to, suspendedAt: null };
  return (await updateTenant(db, row.id, patch))!;
}

/** Permanently removes a soft-deleted tenant and its database. */
export async function purgeTenant(
  env: Env,
  db: PlatformDb,
  slug: string,
  provisioner: Provisioner = provisionerFor(env),
): Promise<void> {
  const row = await getTenant(db, slug);
  if (row.status !== "deleted")
    throw new AppError("tenant_not_deleted", "Only a deleted tenant can be purged; DELETE it first.");
  await provisioner.destroy(row.dbName);
  await deleteTenantRow(db, row.id);
}

/** The tenant database's migration ledger against the bundled migrations. */
export async function migrationStatus(env: Env, db: PlatformDb, slug: string, apply: boolean) {
  const row = await getTenant(db, slug);
  const client = tenantClient(await tenantDbLocation(env, row));
  if (apply) await recordTenantVersion(db, row.id, (await migrateTenant(client, tenantMigrationSet)).version);
  const version = await currentVersion(client);
  const applied = await appliedMigrations(client);
  return {
    tenant: row.slug,
    version,
    latest: tenantMigrationSet.length,
    pending: tenantMigrationSet.filter((m) => m.version > version).map((m) => ({ version: m.version, name: m.name })),
    applied: applied.map((m) => ({ version: m.version, name: m.name, appliedAt: new Date(m.appliedAt).toISOString() })),
  };
}
