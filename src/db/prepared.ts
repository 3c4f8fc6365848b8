/**
 * Queries prepared once per database handle. Drizzle builds a query's SQL from its builder on
 * every call, which on the read behind `GET /v1/tenant` cost more than the database round trip's
 * own work in the Worker (docs/performance.md, "Profiles"); the gateway's handles live as long as
 * the tenant cache keeps a tenant (sharedTenantDb), so a hot query prepared on one is built once
 * per isolate and tenant. A prepared query holds its SQL and the handle's session, no result:
 * every call runs it against the database with the values it is given (`sql.placeholder`).
 * On a handle made for one request it is built once for that request: no worse than unprepared.
 */
const prepared = new WeakMap<object, Map<string, unknown>>();

/** The query `name` prepared by `build` on `db`, built on first use. */
export function preparedOn<D extends object, Q>(db: D, name: string, build: (db: D) => Q): Q {
  let queries = prepared.get(db);
  if (!queries) {
    queries = new Map();
    prepared.set(db, queries);
  }
  let q = queries.get(name) as Q | undefined;
  if (q === undefined) {
    q = build(db);
    queries.set(name, q);
  }
  return q;
}
