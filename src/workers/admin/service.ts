import type { PlatformDb } from "../../db/client";
import { currentVersion } from "../../db/migrator";
import { migrateTenant, appliedMigrations } from "../../db/tenant-migrate";
import { tenantMigrations as tenantMigrationSet } from "../../db/migrations.gen";
import { provisionerFor, type Provisioner } from "../../db/provisioner";
import type { TenantRow, TenantStatus } from "../../db/platform/schema";
import {
  deleteTenantRow,
  findTenantBySlug,
  insertTenant,
  listTenantRows,
  recordTenantVersion,
  updateTenant,
} from "../../db/platform/tenants";
import { tenantClient, tenantDb, tenantDbLocation } from "../../db/tenant-db";
import { writePublicInfo } from "../../db/tenant/settings";
import { createAccount } from "../../db/tenant/accounts";
import { rotateSigningKey } from "../../db/tenant/signing-keys";
import { checkPasswordPolicy } from "../../lib/password-policy";
import { sealSecret } from "../../lib/crypto";
import type { Pager } from "../../lib/cursor";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
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
 * Creates a tenant: reserve the slug (a unique row in state `provisioning`), create its database,
 * migrate it, write its public info, then mark it active. A failure undoes what was done, so the
 * slug is free again and the call can be retried.
 */
export async function createTenant(
  env: Env,
  db: PlatformDb,
  input: CreateTenantInput,
  provisioner: Provisioner = provisionerFor(env),
): Promise<TenantRow> {
  const config = mergedConfig(defaultTenantConfig(), input.config ?? {});
  if (input.owner) checkPasswordPolicy(input.owner.password, [input.owner.email]);
  const now = Date.now();
  const id = newId(now);
  const row: TenantRow = {
    id,
    slug: input.slug,
    name: input.name,
    status: "provisioning",
    plan: input.plan,
    dbProvider: provisioner.provider,
    dbName: `t-${id}`,
    dbUrl: null,
    dbTokenSealed: null,
    config: JSON.stringify(config),
    createdAt: now,
    updatedAt: now,
    suspendedAt: null,
    deletedAt: null,
  };
  try {
    await insertTenant(db, row);
  } catch (err) {
    if (await findTenantBySlug(db, input.slug)) {
      throw new AppError(
        "tenant_exists",
        `The slug '${input.slug}' is taken (deleted tenants keep theirs until purged).`,
      );
    }
    throw err;
  }
  try {
    const created = await provisioner.create(row.dbName);
    const sealed = await sealSecret(env.DB_ENCRYPTION_KEY, created.token, id);
    const loc = { url: created.url, token: created.token };
    const report = await migrateTenant(tenantClient(loc), tenantMigrationSet);
    const db2 = tenantDb(loc);
    await writePublicInfo(db2, { name: row.name, features: config.features, signIn: config.signIn });
    await rotateSigningKey(db2, env.DB_ENCRYPTION_KEY, id);
    if (input.owner) await createAccount(db2, input.owner, ["owner", "member"]);
    const active = await updateTenant(db, id, { status: "active", dbUrl: created.url, dbTokenSealed: sealed });
    await recordTenantVersion(db, id, report.version);
    return active!;
  } catch (err) {
    log("error", "tenant provisioning failed", { tenant: input.slug, error: String(err) });
    await provisioner.destroy(row.dbName).catch(() => undefined);
    await deleteTenantRow(db, id).catch(() => undefined);
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
