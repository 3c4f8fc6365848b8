import { eq } from "drizzle-orm";
import { platformDb } from "../../db/client";
import { tenants } from "../../db/platform/schema";
import { tenantDbLocation, type TenantDbLocation } from "../../db/tenant-db";
import { parseStoredConfig, type TenantConfig } from "../../lib/tenant-config";
import { SettledCache } from "../../lib/settled-cache";
import type { MessagePolicy } from "./types";

/** The part of a tenant's config a conversation applies. */
export function policyOf(config: TenantConfig): MessagePolicy {
  return { ...config.messages, maxGroupMembers: config.limits.maxGroupMembers, gateways: config.realtime.gateways };
}

/** What a Conversation object needs of its tenant's platform row: the policy, and where the tenant DB is. */
interface TenantFacts {
  policy: MessagePolicy;
  /** Null while the tenant has no database (provisioning) or when its row is gone. */
  db: TenantDbLocation | null;
}

// Settled values only (src/lib/settled-cache.ts): a pending read is never shared between calls.
const cache = new SettledCache<TenantFacts>(1000);
/** Tenants whose stale value is being refreshed by some call right now. */
const refreshing = new Set<string>();
/** How long past its TTL a value may still be served while a newer read runs. */
const STALE_MS = 30_000;

async function read(env: Env, tenantId: string): Promise<TenantFacts> {
  const row = await platformDb(env).select().from(tenants).where(eq(tenants.id, tenantId)).get();
  const policy = policyOf(parseStoredConfig(row?.config ?? "{}"));
  return { policy, db: row?.dbUrl && row.dbTokenSealed ? await tenantDbLocation(env, row) : null };
}

const ttlOf = (env: Env) => Number(env.TENANT_CACHE_TTL_MS) || 5000;

/**
 * A usable cached value (fresh, or stale within STALE_MS), else undefined. A stale value starts a
 * refresh, in the calling request's own context and awaited by nobody else; it replaces the
 * value when it lands, and a failed one leaves the stale value for the next call to retry.
 */
function cached(env: Env, tenantId: string, now: number): TenantFacts | undefined {
  const hit = cache.peek(tenantId);
  if (!hit) return undefined;
  const age = now - hit.at;
  if (age < ttlOf(env)) return hit.value;
  if (age - ttlOf(env) > STALE_MS) return undefined;
  if (!refreshing.has(tenantId)) {
    refreshing.add(tenantId);
    read(env, tenantId)
      .then(
        (v) => cache.set(tenantId, v, Date.now()),
        () => undefined,
      )
      .finally(() => refreshing.delete(tenantId));
  }
  return hit.value;
}

/**
 * The tenant's facts for calls that do not bring them (socket frames arrive through the user's
 * hub, which has no tenant config; file checks need the tenant DB): read from the platform DB,
 * cached per isolate for TENANT_CACHE_TTL_MS like the Worker's tenant cache. Under steady
 * traffic no call waits for the platform DB: up to STALE_MS past the TTL, the value read last is
 * served while a newer read runs (so a config change applies within TTL + one call); later than
 * that, the call waits for a fresh read of its own.
 */
async function loadTenant(env: Env, tenantId: string, now: number): Promise<TenantFacts> {
  const hit = cached(env, tenantId, now);
  if (hit) return hit;
  const value = await read(env, tenantId);
  cache.set(tenantId, value, now);
  return value;
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

/**
 * One Conversation object's reader of its tenant's policy, for calls that wait for it. Sends
 * that arrive while it is read all wait for this one read and resume in the order they came, so
 * their seqs follow arrival order (a read per send would finish in any order). The pending read
 * is shared only among this object's calls, which run in one actor; the isolate-wide cache
 * above holds settled values only.
 */
export class PolicyReader {
  private pending: Promise<MessagePolicy> | undefined;

  constructor(
    private readonly env: Env,
    private readonly tenantId: () => string,
  ) {}

  load(now = Date.now()): Promise<MessagePolicy> {
    this.pending ??= loadPolicy(this.env, this.tenantId(), now).finally(() => (this.pending = undefined));
    return this.pending;
  }
}
