import type { TenantDb } from "../../db/client";
import type { RateLimitResult } from "../../durable/sliding-window";
import type { TenantConfig } from "../../lib/tenant-config";

/** A tenant as the gateway resolved it for this request (database credential already opened). */
export interface ResolvedTenant {
  id: string;
  slug: string;
  name: string;
  status: "active" | "suspended";
  plan: string;
  config: TenantConfig;
  db: { url: string; token: string };
}

/** Who is calling: a signed-in user (one session) or a tenant's server with an API key. */
export type Principal =
  | { kind: "user"; userId: string; sessionId: string; roles: string[] }
  /**
   * `grants`: the permission lists that must all grant a permission (the key's scopes, the scopes
   * of the keys that minted it, its creator's roles now); `rank`: the lowest rank along them.
   */
  | { kind: "api_key"; keyId: string; creatorId: string; grants: string[][]; rank: number };

/** Per-request context variables, typed for every Hono handler by module augmentation. */
declare module "hono" {
  interface ContextVariableMap {
    requestId: string;
    traceId: string;
    spanId: string;
    /** Whether this request's trace is sampled (the traceparent flag it passes on). */
    traceSampled: boolean;
    tenant: ResolvedTenant;
    /**
     * The request's tenant database handle, made once by tenantScope and used by every step of
     * the request (authentication, permission checks, the handler).
     */
    db: TenantDb;
    principal: Principal;
    /** The user's API rate-limit verdict, when authentication already spent it (one hub call). */
    userRate: RateLimitResult;
    /** Extra fields the request log line should carry (set by auth: user id, …). */
    logFields: Record<string, unknown>;
  }
}

export type AppEnv = { Bindings: Env };

/**
 * What a service function needs of the request it serves: the bindings, the tenant, and the
 * request's one database handle (never a handle of its own). Queue consumers and sweeps, which
 * have no request, make one scope per event or tenant the same way.
 */
export interface TenantScope {
  env: Env;
  tenant: ResolvedTenant;
  db: TenantDb;
}

/** The scope of a tenant route's request (tenantScope set the tenant and its handle). */
export const scopeOf = (c: {
  env: Env;
  get(key: "tenant"): ResolvedTenant;
  get(key: "db"): TenantDb;
}): TenantScope => ({
  env: c.env,
  tenant: c.get("tenant"),
  db: c.get("db"),
});
