import type { PlatformDb } from "../../db/client";
import { migrateTenant } from "../../db/tenant-migrate";
import { tenantMigrations } from "../../db/migrations.gen";
import {
  findTenantById,
  findTenantBySlug,
  recordedTenantVersion,
  recordTenantVersion,
} from "../../db/platform/tenants";
import { tenantClient, tenantDbLocation, type TenantDbLocation } from "../../db/tenant-db";
import { parseStoredConfig } from "../../lib/tenant-config";
import { SettledCache } from "../../lib/settled-cache";
import type { ResolvedTenant } from "../gateway/context";
import { openCircuitIn } from "../../lib/breakers";
import { isUnreachable } from "../../lib/errors";

// Per-isolate cache of resolved tenants. Bounded in size and time: a suspension made through
// another isolate takes effect within the TTL; one made through this isolate at once (forget()).
// Unknown slugs are cached too, so a flood of random hosts costs one platform read per slug.
// Settled values only (src/lib/settled-cache.ts): concurrent misses each load for themselves.
const cache = new SettledCache<ResolvedTenant | null>(1000);

type Key = { slug: string } | { id: string };

async function load(env: Env, db: PlatformDb, key: Key): Promise<ResolvedTenant | null> {
  const row = "slug" in key ? await findTenantBySlug(db, key.slug) : await findTenantById(db, key.id);
  if (!row || (row.status !== "active" && row.status !== "suspended")) return null;
  const loc = await tenantDbLocation(env, row);
  await ensureMigrated(db, row.id, loc);
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    status: row.status,
    plan: row.plan,
    config: parseStoredConfig(row.config),
    db: loc,
  };
}

/**
 * A tenant DB behind the code's migrations is brought up to date before its first request here,
 * so a deploy with new migrations heals itself even if `npm run migrate` was not run. The
 * recorded version makes the check one platform read per cache miss; the runner itself is safe
 * when many isolates race (see migrator.ts).
 */
async function ensureMigrated(db: PlatformDb, tenantId: string, loc: TenantDbLocation): Promise<void> {
  if ((await recordedTenantVersion(db, tenantId)) >= tenantMigrations.length) return;
  const report = await migrateTenant(tenantClient(loc));
  await recordTenantVersion(db, tenantId, report.version);
}

/** The tenant for a slug (null if unknown or deleted), cached for TENANT_CACHE_TTL_MS. */
export function resolveTenant(
  env: Env,
  db: () => PlatformDb,
  slug: string,
  now = Date.now(),
): Promise<ResolvedTenant | null> {
  return cached(env, db, `s:${slug}`, { slug }, now);
}

/** The tenant for an id (queue consumers and the cron know tenants by id), cached the same way. */
export function resolveTenantById(
  env: Env,
  db: () => PlatformDb,
  id: string,
  now = Date.now(),
): Promise<ResolvedTenant | null> {
  return cached(env, db, `i:${id}`, { id }, now);
}

function cached(env: Env, db: () => PlatformDb, k: string, key: Key, now: number): Promise<ResolvedTenant | null> {
  const ttl = Number(env.TENANT_CACHE_TTL_MS) || 5000;
  // A failed load stores nothing (the next request retries) and, while the platform database is
  // unreachable, falls back to what this isolate last knew of the tenant, up to STALE_MAX_MS old
  // (docs/operations.md, "Degradation"): tenants keep being served through a platform outage.
  return cache
    .get(
      k,
      (at) => now - at < ttl,
      () => load(env, db(), key),
      now,
    )
    .catch((err: unknown) => {
      const stale = cache.peek(k);
      if (!stale || now - stale.at > STALE_MAX_MS || !(openCircuitIn(err) || isUnreachable(err))) throw err;
      return stale.value;
    });
}

/** How old a tenant's config may be when served from this isolate's cache during a platform outage. */
const STALE_MAX_MS = 10 * 60_000;

/** Drops a tenant from this isolate's cache after an admin change. */
export function forgetTenant(slug: string, id?: string): void {
  cache.delete(`s:${slug}`);
  if (id) cache.delete(`i:${id}`);
}
