import { sealContexts } from "../lib/seal-contexts";
import type { Client } from "@libsql/client";
import { openSecret } from "../lib/crypto";
import { boundedText, libsqlClient, tenantDrizzle, type TenantDb } from "./client";
import { leanClient, pipelineUrlOf } from "./lean-client";
import type { TenantRow } from "./platform/schema";

/** The connection facts of a tenant database, credential already opened. */
export interface TenantDbLocation {
  url: string;
  token: string;
}

/**
 * Opens the sealed credential of a tenant row. The tenant id is the AES-GCM context, so a
 * credential copied onto another tenant's row does not open.
 */
export async function tenantDbLocation(env: { DB_ENCRYPTION_KEY: string }, row: TenantRow): Promise<TenantDbLocation> {
  if (!row.dbUrl || !row.dbTokenSealed) throw new Error(`tenant ${row.id} has no database yet`);
  return {
    url: row.dbUrl,
    token: await openSecret(env.DB_ENCRYPTION_KEY, row.dbTokenSealed, sealContexts.dbToken(row.id)),
  };
}

/** A raw client for one tenant's database (migrations, batches, backups: integers as bigint there). Made per request. */
export function tenantClient(loc: TenantDbLocation, intMode: "number" | "bigint" = "number"): Client {
  return libsqlClient(loc.url, loc.token, "tenant", intMode);
}

/** A new drizzle handle for one tenant's database (see {@link sharedTenantDb} for the gateway's). */
export function tenantDb(loc: TenantDbLocation): TenantDb {
  return tenantDrizzle(tenantClient(loc));
}

/** The isolate's handles, one per tenant location object (see {@link sharedTenantDb}). */
const shared = new WeakMap<TenantDbLocation, TenantDb>();

/**
 * The handle the gateway gives every tenant-scoped request: one per tenant per isolate, for as
 * long as the tenant cache keeps that tenant's resolved location object (TENANT_CACHE_TTL_MS; a
 * reload makes a new object, hence a new handle, and the old one goes with the old object).
 * Building a client and its drizzle handle cost more than the rest of the gateway chain's
 * bookkeeping (docs/performance.md, "Profiles"). Sharing is safe: the client keeps no I/O object
 * between calls (every query makes its own Hrana stream and fetch in the calling request), and
 * its concurrency limit is set out of reach (libsqlClient), so no request's query ever waits in a
 * queue that another request's completion drains. Single statements go through the lean client
 * (lean-client.ts): one pipeline request each, without the full client's stream machinery.
 */
export function sharedTenantDb(loc: TenantDbLocation): TenantDb {
  let db = shared.get(loc);
  if (!db) {
    const full = tenantClient(loc);
    const pipeline = pipelineUrlOf(loc.url);
    // Single statements through the lean client (lean-client.ts), the rest through the full one.
    db = tenantDrizzle(
      pipeline ? leanClient(full, pipeline, loc.token, (url, init) => boundedText(url, init, "tenant")) : full,
    );
    shared.set(loc, db);
  }
  return db;
}
