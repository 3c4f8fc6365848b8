import { eq } from "drizzle-orm";
import { platformDb } from "../../db/client";
import { tenants } from "../../db/platform/schema";
import { parseStoredConfig, type TenantConfig } from "../../lib/tenant-config";
import type { MessagePolicy } from "./types";

/** The part of a tenant's config a conversation applies. */
export function policyOf(config: TenantConfig): MessagePolicy {
  return { ...config.messages, maxGroupMembers: config.limits.maxGroupMembers };
}

const cache = new Map<string, { expires: number; value: Promise<MessagePolicy> }>();
const MAX_ENTRIES = 1000;

/**
 * The tenant's policy for calls that do not bring one (socket frames arrive through the user's
 * hub, which has no tenant config): read from the platform DB, cached per isolate for
 * TENANT_CACHE_TTL_MS like the Worker's tenant cache. HTTP routes pass the Worker's copy instead.
 */
export function loadPolicy(env: Env, tenantId: string, now = Date.now()): Promise<MessagePolicy> {
  const hit = cache.get(tenantId);
  if (hit && hit.expires > now) return hit.value;
  const value = (async () => {
    const row = await platformDb(env).select({ config: tenants.config }).from(tenants).where(eq(tenants.id, tenantId)).get();
    return policyOf(parseStoredConfig(row?.config ?? "{}"));
  })();
  value.catch(() => cache.delete(tenantId));
  cache.delete(tenantId);
  cache.set(tenantId, { expires: now + (Number(env.TENANT_CACHE_TTL_MS) || 5000), value });
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return value;
}
