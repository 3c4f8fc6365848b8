import { DurableObject } from "cloudflare:workers";
import type { MetricBatch } from "../lib/metrics/recorder";
import { migrateStorage, type DoMigration } from "./storage-migrations";

const migrations: readonly DoMigration[] = [
  (sql) => {
    sql.exec(
      "CREATE TABLE series (name TEXT NOT NULL, labels TEXT NOT NULL, tenant TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (name, labels, tenant)) WITHOUT ROWID",
    );
    sql.exec("CREATE INDEX series_tenant ON series (tenant)");
    sql.exec(
      "CREATE TABLE gauges (name TEXT NOT NULL, labels TEXT NOT NULL, isolate TEXT NOT NULL, value REAL NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (name, labels, isolate)) WITHOUT ROWID",
    );
    sql.exec("CREATE TABLE batches (id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID");
    sql.exec("CREATE INDEX batches_at ON batches (at)");
  },
];

/** How long a batch id is remembered (an isolate retries a failed batch within seconds or minutes). */
const BATCH_MEMORY_MS = 3_600_000;
/** An isolate's gauge counts while it reported within this window (isolates die without a word). */
export const GAUGE_FRESH_MS = 120_000;

/** One aggregated sample: a series summed over isolates (and over tenants, unless asked per tenant). */
export type SeriesRow = {
  name: string;
  labels: string;
  value: number;
};

/** What a shard holds: the summed series, each tenant's request total, and fresh isolate gauges. */
export interface HubSnapshot {
  series: SeriesRow[];
  tenantRequests: { tenant: string; value: number }[];
  gauges: { name: string; labels: string; value: number }[];
}

/**
 * The metrics aggregator (docs/operations.md, "Metrics"): isolates send their deltas here in
 * batches, each applied exactly once (its id is remembered, and the id and the sums commit in
 * one transaction), and the exposition reads the sums. Sharded by isolate (METRICS_SHARDS): the
 * exposition reads every shard and adds them up.
 */
export class MetricsHub extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      migrateStorage(ctx.storage, migrations);
    });
  }

  /** Applies a batch unless it was applied before; true when it was applied now. */
  ingest(batch: MetricBatch, now = Date.now()): boolean {
    const sql = this.ctx.storage.sql;
    return this.ctx.storage.transactionSync(() => {
      if (sql.exec("SELECT 1 FROM batches WHERE id = ?", batch.id).toArray().length) return false;
      sql.exec("INSERT INTO batches (id, at) VALUES (?, ?)", batch.id, now);
      for (const d of batch.deltas)
        sql.exec(
          "INSERT INTO series (name, labels, tenant, value) VALUES (?, ?, ?, ?) ON CONFLICT (name, labels, tenant) DO UPDATE SET value = value + excluded.value",
          d.n,
          d.l,
          d.t,
          d.v,
        );
      for (const g of batch.sets)
        sql.exec(
          "INSERT INTO gauges (name, labels, isolate, value, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, labels, isolate) DO UPDATE SET value = excluded.value, at = excluded.at",
          g.n,
          g.l,
          batch.isolate,
          g.v,
          now,
        );
      sql.exec("DELETE FROM batches WHERE at < ?", now - BATCH_MEMORY_MS);
      sql.exec("DELETE FROM gauges WHERE at < ?", now - GAUGE_FRESH_MS);
      return true;
    });
  }

  /** Everything, summed over tenants (the exposition). */
  snapshot(now = Date.now()): HubSnapshot {
    const sql = this.ctx.storage.sql;
    return {
      series: sql
        .exec<SeriesRow>("SELECT name, labels, sum(value) AS value FROM series GROUP BY name, labels")
        .toArray(),
      tenantRequests: sql
        .exec<{ tenant: string; value: number }>(
          "SELECT tenant, sum(value) AS value FROM series WHERE name = 'canopy_http_requests_total' AND tenant != '' GROUP BY tenant",
        )
        .toArray(),
      // The worst (largest) fresh value per series: a breaker open in one isolate is open.
      gauges: sql
        .exec<SeriesRow>(
          "SELECT name, labels, max(value) AS value FROM gauges WHERE at >= ? GROUP BY name, labels",
          now - GAUGE_FRESH_MS,
        )
        .toArray(),
    };
  }

  /** One tenant's series (GET /v1/admin/metrics). */
  tenantSeries(tenantId: string): SeriesRow[] {
    return this.ctx.storage.sql
      .exec<SeriesRow>("SELECT name, labels, value FROM series WHERE tenant = ?", tenantId)
      .toArray();
  }
}
