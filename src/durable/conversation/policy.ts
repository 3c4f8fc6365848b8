import { eq } from "drizzle-orm";
import { platformDb } from "../../db/client";
import { tenants } from "../../db/platform/schema";
import { tenantDbLocation, type TenantDbLocation } from "../../db/tenant-db";
import { parseStoredConfig, type TenantConfig } from "../../lib/tenant-config";
import type { MessagePolicy } from "./types";

/** The part of a tenant's config a conversation applies. */
export function policyOf(config: TenantConfig): MessagePolicy {
  return { ...config.messages, maxGroupMembers: config.limits.maxGroupMembers };
}

/** What a Conversation object needs of its tenant's platform row: the policy, and where the tenant DB is. */
interface TenantFacts {
  policy: MessagePolicy;
  /** Null while the tenant has no database (provisioning) or when its row is gone. */
  db: TenantDbLocation | null;
}

const cache = new Map<string, { expires: number; value: Promise<TenantFacts> }>();
const MAX_ENTRIES = 1000;

/**
 * The tenant's facts for calls that do not bring them (socket frames arrive through the user's
 * hub, which has no tenant config; file checks need the tenant DB): read from the platform DB,
 * cached per isolate for TENANT_CACHE_TTL_MS like the Worker's tenant cache. A failed read is
 * not cached.
 */
function loadTenant(env: Env, tenantId: string, now: number): Promise<TenantFacts> {
  const hit = cache.get(tenantId);
  if (hit && hit.expires > now) return hit.value;
  const value = (async (): Promise<TenantFacts> => {
    const row = await platformDb(env).select().from(tenants).where(eq(tenants.id, tenantId)).get();
    const policy = policyOf(parseStoredConfig(row?.config ?? "{}"));
    return { policy, db: row?.dbUrl && row.dbTokenSealed ? await tenantDbLocation(env, row) : null };
  })();
  value.catch(() => cache.delete(tenantId));
  cache.delete(tenantId);
  cache.set(tenantId, { expires: now + (Number(env.TENANT_CACHE_TTL_MS) || 5000), value });
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return value;
}

/** The tenant's message policy (HTTP routes pass the Worker's copy instead). */
export async function loadPolicy(env: Env, tenantId: string, now = Date.now()): Promise<MessagePolicy> {
  return (await loadTenant(env, tenantId, now)).policy;
}

/** Where the tenant's database is (credential opened), or null when it has none. */
export async function loadTenantDb(env: Env, tenantId: string, now = Date.now()): Promise<TenantDbLocation | null> {
  return (await loadTenant(env, tenantId, now)).db;
}
