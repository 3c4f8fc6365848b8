import type { PlatformDb } from "../../db/client";
import { tenantMigrations as tenantMigrationSet } from "../../db/migrations.gen";
import {
  deleteTenantRow,
  findTenantBySlug,
  insertTenant,
  recordTenantVersion,
  updateTenant,
} from "../../db/platform/tenants";
import type { TenantRow } from "../../db/platform/schema";
import { provisionerFor, type Provisioner } from "../../db/provisioner";
import { migrateTenant } from "../../db/tenant-migrate";
import { tenantClient, tenantDb, type TenantDbLocation } from "../../db/tenant-db";
import { writePublicInfo } from "../../db/tenant/settings";
import { rotateSigningKey } from "../../db/tenant/signing-keys";
import { sealSecret } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { sealContexts } from "../../lib/seal-contexts";
import type { TenantConfig } from "../../lib/tenant-config";

/**
 * The steps of bringing a tenant into being, shared by creation (admin API) and restore
 * (backups): reserve the slug as an invisible `provisioning` row, create and migrate its
 * database, give it a signing key and its public info, then make it active. A failure undoes
 * what was done ({@link abandonTenant}), so the slug is free again and the call can be retried.
 */

/** Reserves the slug: a unique row in state `provisioning`, or 409 tenant_exists. */
export async function reserveTenant(
  db: PlatformDb,
  provisioner: Provisioner,
  input: { slug: string; name: string; plan: string; config: TenantConfig },
): Promise<TenantRow> {
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
    config: JSON.stringify(input.config),
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
  return row;
}

/** A reserved tenant's database, created and migrated (to `upTo`, a schema version, when given). */
export interface ProvisionedTenant {
  loc: TenantDbLocation;
  sealedToken: string;
  version: number;
}

export async function provisionDatabase(
  env: Env,
  row: TenantRow,
  provisioner: Provisioner = provisionerFor(env),
  upTo?: number,
): Promise<ProvisionedTenant> {
  const created = await provisioner.create(row.dbName);
  const sealedToken = await sealSecret(env.DB_ENCRYPTION_KEY, created.token, sealContexts.dbToken(row.id));
  const loc = { url: created.url, token: created.token };
  const set = upTo === undefined ? tenantMigrationSet : tenantMigrationSet.filter((m) => m.version <= upTo);
  const report = await migrateTenant(tenantClient(loc), set);
  return { loc, sealedToken, version: report.version };
}

/** The public info (name, features, sign-in) and a fresh signing key, then the row goes active. */
export async function activateTenant(
  env: Env,
  db: PlatformDb,
  row: TenantRow,
  config: TenantConfig,
  p: ProvisionedTenant,
): Promise<TenantRow> {
  const tdb = tenantDb(p.loc);
  await writePublicInfo(tdb, { name: row.name, features: config.features, signIn: config.signIn });
  await rotateSigningKey(tdb, env.DB_ENCRYPTION_KEY, row.id);
  const active = await updateTenant(db, row.id, { status: "active", dbUrl: p.loc.url, dbTokenSealed: p.sealedToken });
  await recordTenantVersion(db, row.id, p.version);
  return active!;
}

/** Undoes a reservation: the database (if any) and the row go, the slug is free again. */
export async function abandonTenant(db: PlatformDb, provisioner: Provisioner, row: TenantRow): Promise<void> {
  await provisioner.destroy(row.dbName).catch(() => undefined);
  await deleteTenantRow(db, row.id).catch(() => undefined);
}
