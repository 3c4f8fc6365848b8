import { createClient, type Client } from "@libsql/client/web";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { drizzle } from "drizzle-orm/libsql/web";
import { breakerFor, CircuitOpenError, guard } from "../lib/breakers";
import { metrics } from "../lib/metrics/recorder";
import { inSpan, isRecording, type SpanHandle, traceparent } from "../lib/tracing/spans";

/**
 * Handles without drizzle's relational query API (`db.query.*`, unused here): given a schema,
 * drizzle rebuilds its relational config for every table on every handle, and handles are made
 * per request; that was the largest single cost of the gateway chain (docs/performance.md,
 * "Profiles"). Queries are built from the tables (`db.select().from(users)`) as before.
 */
export type PlatformDb = LibSQLDatabase & { $client: Client };
export type TenantDb = LibSQLDatabase & { $client: Client };

/**
 * A libSQL client over HTTP (Hrana). The same code talks to Turso, sqld and the local server:
 * only the URL and token differ. No connection is opened until the first query; a client is
 * never shared between tenants. Its concurrency limit (the client queues calls beyond 20 by
 * default) is set out of reach: a client shared by a tenant's requests (sharedTenantDb) must not
 * start one request's query from another request's completion, and workerd bounds a request's
 * open connections itself.
 */
export function libsqlClient(
  url: string,
  authToken: string | undefined,
  db: DbKind = "tenant",
  intMode: "number" | "bigint" = "number",
): Client {
  return createClient({
    url,
    authToken: authToken || undefined,
    intMode,
    concurrency: Number.MAX_SAFE_INTEGER,
    fetch: (input: RequestInfo | URL, init?: RequestInit) => boundedFetch(input, init, db),
  });
}

/** Which database a client talks to: the label of its metrics (docs/operations.md). */
export type DbKind = "platform" | "tenant";

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
export function boundedFetch(input: RequestInfo | URL, init: RequestInit | undefined, db: DbKind): Promise<Response> {
  // Hrana answers are small JSON documents: read whole, so a stalled body times out too.
  return bounded(
    input,
    init,
    db,
    async (res) =>
      new Response(await res.arrayBuffer(), { status: res.status, statusText: res.statusText, headers: res.headers }),
  );
}

/** An answer read whole as text: its status and content type beside it. */
export interface TextAnswer {
  ok: boolean;
  status: number;
  contentType: string;
  text: string;
}

/**
 * {@link boundedFetch} for a caller that parses the answer itself (the lean client): the same
 * timeout, breaker, span and metrics, answered as text instead of a Response rebuilt around
 * the body that was read.
 */
export function boundedText(url: string, init: RequestInit, db: DbKind): Promise<TextAnswer> {
  return bounded(url, init, db, async (res) => ({
    ok: res.ok,
    status: res.status,
    contentType: res.headers.get("content-type") ?? "",
    text: await res.text(),
  }));
}

async function bounded<T extends { status: number }>(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  db: DbKind,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const url = input instanceof Request ? input.url : String(input);
  const breaker = breakerFor(db === "platform" ? "platform_db" : "tenant_db", databaseOf(url), failedCall, {
    failedResult: serverFailed,
  });
  try {
    return await guard(breaker, () =>
      inSpan("libsql", "client", { "db.system": "libsql", "db.namespace": db }, (span) =>
        timedFetch(...withTraceparent(input, init, span), db, read),
      ),
    );
  } catch (err) {
    if (err instanceof CircuitOpenError) metrics.add("canopy_db_queries_total", { db, outcome: "rejected" });
    throw err;
  }
}

/**
 * The Hrana request with the span's `traceparent` added, when the span is recorded (W3C
 * propagation). The client sends a `Request` object: its own headers (the token) are kept.
 */
function withTraceparent(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  span: SpanHandle,
): [RequestInfo | URL, RequestInit | undefined] {
  if (!span.context.sampled || !isRecording()) return [input, init];
  const header = traceparent(span.context);
  if (!(input instanceof Request))
    return [input, { ...init, headers: { ...(init?.headers as Record<string, string>), traceparent: header } }];
  const req = new Request(input);
  req.headers.set("traceparent", header);
  return [req, init];
}

/** A database by its URL without the Hrana endpoint path: one breaker per database. */
const databaseOf = (url: string) => url.replace(/\/v[0-9]+(-protobuf)?(\/(pipeline|cursor))?$/, "");
/** Every failure to get an answer is the database's; an answer (even a SQL error) is not, unless a 5xx. */
const failedCall = () => true;
const serverFailed = (r: unknown) => ((r as { status?: number } | undefined)?.status ?? 0) >= 500;

async function timedFetch<T>(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  db: DbKind,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const start = performance.now();
  let outcome: "ok" | "error" | "timeout" = "error";
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("The database did not answer in time.", "TimeoutError")),
    DB_REQUEST_TIMEOUT_MS,
  );
  try {
    const res = await fetch(input, { ...init, signal: controller.signal });
    const answer = await read(res);
    if (res.ok) outcome = "ok";
    return answer;
  } catch (err) {
    if (controller.signal.aborted) outcome = "timeout";
    throw err;
  } finally {
    clearTimeout(timer);
    metrics.add("canopy_db_queries_total", { db, outcome });
    metrics.observe("canopy_db_query_duration_seconds", { db }, (performance.now() - start) / 1000);
  }
}

/** The platform database handle (tenants, plans, idempotency keys). */
export function platformDb(env: { PLATFORM_DB_URL: string; PLATFORM_DB_TOKEN?: string | undefined }): PlatformDb {
  return drizzle(libsqlClient(env.PLATFORM_DB_URL, env.PLATFORM_DB_TOKEN, "platform"));
}

/** Wraps a tenant database client; see tenantDb() in ./tenant-db for how one is obtained. */
export function tenantDrizzle(client: Client): TenantDb {
  return drizzle(client);
}

/** One round trip to a database (readiness probes). */
export async function ping(db: { $client: Client }): Promise<void> {
  await db.$client.execute("SELECT 1");
}
