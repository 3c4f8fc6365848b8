import { createClient, type Client } from "@libsql/client/web";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { drizzle } from "drizzle-orm/libsql/web";
import * as platformSchema from "./platform/schema";
import * as tenantSchema from "./tenant/schema";

export type PlatformDb = LibSQLDatabase<typeof platformSchema> & { $client: Client };
export type TenantDb = LibSQLDatabase<typeof tenantSchema> & { $client: Client };

/**
 * A libSQL client over HTTP (Hrana). The same code talks to Turso, sqld and the local server:
 * only the URL and token differ. Creating a client is cheap (no connection is opened until the
 * first query), so handles are made per request and never shared between tenants.
 */
export function libsqlClient(url: string, authToken: string | undefined): Client {
  return createClient({ url, authToken: authToken || undefined, intMode: "number", fetch: boundedFetch });
}

/**
 * How long one Hrana request may take before it is abandoned. A database that stops answering
 * (a dropped connection, a hung server) must turn into a 503 the client can retry, not a request
 * that hangs until the platform kills it.
 */
export const DB_REQUEST_TIMEOUT_MS = 10_000;

/**
 * fetch with the database timeout over the whole exchange, body included. A timer of our own,
 * cleared as soon as the answer is in: AbortSignal.timeout() would leave a live timer behind for
 * the full 10 s, which keeps a Durable Object that queried the database from hibernating.
 */
async function boundedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("The database did not answer in time.", "TimeoutError")),
    DB_REQUEST_TIMEOUT_MS,
  );
  try {
    const res = await fetch(input, { ...init, signal: controller.signal });
    // Hrana answers are small JSON documents: read whole, so a stalled body times out too.
    const body = await res.arrayBuffer();
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  } finally {
    clearTimeout(timer);
  }
}

/** The platform database handle (tenants, plans, idempotency keys). */
export function platformDb(env: { PLATFORM_DB_URL: string; PLATFORM_DB_TOKEN?: string | undefined }): PlatformDb {
  return drizzle(libsqlClient(env.PLATFORM_DB_URL, env.PLATFORM_DB_TOKEN), { schema: platformSchema });
}

/** Wraps a tenant database client; see tenantDb() in ./tenant-db for how one is obtained. */
export function tenantDrizzle(client: Client): TenantDb {
  return drizzle(client, { schema: tenantSchema });
}

/** One round trip to a database (readiness probes). */
export async function ping(db: { $client: Client }): Promise<void> {
  await db.$client.execute("SELECT 1");
}
