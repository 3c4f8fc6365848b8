import { count, isNull } from "drizzle-orm";
import { platformDb } from "../../db/client";
import { deadLetters, tenants } from "../../db/platform/schema";
import { metricsHubStub, metricsShards } from "../../durable/protocol/stubs";
import type { Sample } from "../../lib/metrics/exposition";
import { renderLabels } from "../../lib/metrics/recorder";

/** Adds a value to its series (by name and labels) in `sums`. */
function addTo(sums: Map<string, Sample>, name: string, labels: string, value: number): void {
  const key = `${name}\u0000${labels}`;
  const s = sums.get(key);
  if (s) s.value += value;
  else sums.set(key, { name, labels, value });
}

/** How many tenants get a series of their own in the exposition; the rest are summed as `other`. */
export const TENANT_SERIES_CAP = 20;

/**
 * Everything the exposition shows: every shard's sums added up, the per-tenant request series
 * capped (the cardinality budget, docs/operations.md), each gauge isolates set at its worst, and
 * the gauges read at scrape time from the platform database (tenants, dead letters).
 */
export async function readSamples(env: Env): Promise<Sample[]> {
  const shards = await Promise.all(
    Array.from({ length: metricsShards(env) }, (_, i) => metricsHubStub(env, i).snapshot()),
  );
  const sums = new Map<string, Sample>();
  const add = (name: string, labels: string, value: number) => addTo(sums, name, labels, value);
  const perTenant = new Map<string, number>();
  const gauges = new Map<string, Sample>();
  for (const shard of shards) {
    for (const r of shard.series) add(r.name, r.labels, r.value);
    for (const t of shard.tenantRequests) perTenant.set(t.tenant, (perTenant.get(t.tenant) ?? 0) + t.value);
    for (const g of shard.gauges) {
      const key = `${g.name}\u0000${g.labels}`;
      const prev = gauges.get(key);
      if (!prev || g.value > prev.value) gauges.set(key, { name: g.name, labels: g.labels, value: g.value });
    }
  }
  const ranked = [...perTenant].sort((a, b) => b[1] - a[1]);
  for (const [tenant, value] of ranked.slice(0, TENANT_SERIES_CAP))
    add("canopy_tenant_http_requests_total", renderLabels(["tenant"], { tenant }), value);
  const rest = ranked.slice(TENANT_SERIES_CAP).reduce((n, [, v]) => n + v, 0);
  if (ranked.length > TENANT_SERIES_CAP) add("canopy_tenant_http_requests_total", 'tenant="other"', rest);

  const db = platformDb(env);
  const [byStatus, [letters]] = await Promise.all([
    db.select({ status: tenants.status, n: count() }).from(tenants).groupBy(tenants.status),
    db.select({ n: count() }).from(deadLetters).where(isNull(deadLetters.replayedAt)),
  ]);
  for (const r of byStatus) add("canopy_tenants", renderLabels(["status"], { status: r.status }), r.n);
  add("canopy_dead_letters", "", letters?.n ?? 0);
  return [...sums.values(), ...gauges.values()];
}

/** One tenant's samples, summed over shards (GET /v1/admin/metrics). */
export async function readTenantSamples(env: Env, tenantId: string): Promise<Sample[]> {
  const shards = await Promise.all(
    Array.from({ length: metricsShards(env) }, (_, i) => metricsHubStub(env, i).tenantSeries(tenantId)),
  );
  const sums = new Map<string, Sample>();
  for (const rows of shards) for (const r of rows) addTo(sums, r.name, r.labels, r.value);
  return [...sums.values()];
}
