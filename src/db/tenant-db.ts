import { sealContexts } from "../lib/seal-contexts";
import type { Client } from "@libsql/client";
import { openSecret } from "../lib/crypto";
import { libsqlClient, tenantDrizzle, type TenantDb } from "./client";
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

/** The drizzle handle for one tenant's database. Made per request; never cached across tenants. */
export function tenantDb(loc: TenantDbLocation): TenantDb {
  return tenantDrizzle(tenantClient(loc));
}

/**
 * {@link tenantDb}, made on first use: what the gateway hands every tenant-scoped request, most of
 * which never touch the database (`GET /v1/time`, a refused token, a preflight). Building the client
 * and its drizzle handle costs more than the rest of the chain's bookkeeping (docs/performance.md,
 * "Profiles"); a request that queries pays it on its first query, once.
 */
export function lazyTenantDb(loc: TenantDbLocation): TenantDb {
  let real: TenantDb | undefined;
  const open = (): TenantDb => (real ??= tenantDb(loc));
  return new Proxy({} as TenantDb, {
    get(_target, prop) {
      const db = open();
      const value: unknown = Reflect.get(db, prop, db);
      return typeof value === "function" && prop !== "constructor" ? value.bind(db) : value;
    },
    has: (_target, prop) => Reflect.has(open(), prop),
    getPrototypeOf: () => Reflect.getPrototypeOf(open()),
  });
}
