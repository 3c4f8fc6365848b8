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

interface Entry {
  expires: number;
  value: Promise<TenantFacts>;
  /** The value once read. */
  resolved?: TenantFacts;
  /** A newer read is under way (its entry replaces this one when it lands). */
  refreshing?: boolean;
}

const cache = new Map<string, Entry>();
const MAX_ENTRIES = 1000;
/** How long past its TTL a value may still be served while a newer read runs. */
const STALE_MS = 30_000;

function read(env: Env, tenantId: string, now: number): Entry {
  const value = (async (): Promise<TenantFacts> => {
    const row = await platformDb(env).select().from(tenants).where(eq(tenants.id, tenantId)).get();
    const policy = policyOf(parseStoredConfig(row?.config ?? "{}"));
    return { policy, db: row?.dbUrl && row.dbTokenSealed ? await tenantDbLocation(env, row) : null };
  })();
  const entry: Entry = { expires: now + (Number(env.TENANT_CACHE_TTL_MS) || 5000), value };
  const previous = cache.get(tenantId);
  value.then((v) => {
    entry.resolved = v;
    if (cache.get(tenantId) === previous) cache.delete(tenantId);
    if (!cache.has(tenantId)) cache.set(tenantId, entry);
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  }, () => {
    // A failed read is not cached; a stale value may be tried again by the next call.
    if (previous) previous.refreshing = false;
    if (cache.get(tenantId) === entry) cache.delete(tenantId);
  });
  // A first read is shared by concurrent callers; a refresh keeps the stale entry until it lands.
  if (!previous?.resolved) {
    cache.delete(tenantId);
    cache.set(tenantId, entry);
  }
  return entry;
}

/** A usable cached value (fresh, or stale within STALE_MS with a refresh started), else undefined. */
function cached(env: Env, tenantId: string, now: number): TenantFacts | undefined {
  const hit = cache.get(tenantId);
  if (!hit?.resolved) return undefined;
  if (hit.expires > now) return hit.resolved;
  if (now - hit.expires > STALE_MS) return undefined;
  if (!hit.refreshing) {
    hit.refreshing = true;
    read(env, tenantId, now);
  }
  return hit.resolved;
}

/**
 * The tenant's facts for calls that do not bring them (socket frames arrive through the user's
 * hub, which has no tenant config; file checks need the tenant DB): read from the platform DB,
 * cached per isolate for TENANT_CACHE_TTL_MS like the Worker's tenant cache. Under steady
 * traffic no call waits for the platform DB: up to STALE_MS past the TTL, the value read last is
 * served while a newer read runs (so a config change applies within TTL + one call); later than
 * that, the call waits for a fresh read.
 */
function loadTenant(env: Env, tenantId: string, now: number): Promise<TenantFacts> {
  const hit = cached(env, tenantId, now);
  if (hit) return Promise.resolve(hit);
  const pending = cache.get(tenantId);
  if (pending && !pending.resolved) return pending.value;
  cache.delete(tenantId);
  return read(env, tenantId, now).value;
}

/** The tenant's message policy if this isolate has a usable copy, without waiting. */
export function cachedPolicy(env: Env, tenantId: string, now = Date.now()): MessagePolicy | undefined {
  return cached(env, tenantId, now)?.policy;
}

/** The tenant's message policy (HTTP routes pass the Worker's copy instead). */
export async function loadPolicy(env: Env, tenantId: string, now = Date.now()): Promise<MessagePolicy> {
  return (await loadTenant(env, tenantId, now)).policy;
}

/** Where the tenant's database is (credential opened), or null when it has none. */
export async function loadTenantDb(env: Env, tenantId: string, now = Date.now()): Promise<TenantDbLocation | null> {
  return (await loadTenant(env, tenantId, now)).db;
}
