import type { MetricBatch, MetricSink } from "./recorder";

/** Workers Analytics Engine takes at most this many data points per invocation; the rest are left out. */
export const AE_POINTS_PER_BATCH = 250;

/**
 * The same deltas as Workers Analytics Engine data points (docs/operations.md, "Workers
 * Analytics Engine"), after the aggregator took the batch: one point per delta, blob1 the
 * sample name, blob2 its labels, blob3 the tenant, blob4 the batch id; double1 the increment;
 * the tenant (or `platform`) as the index, Analytics Engine's sampling key. Written only once the
 * batch is applied, so a batch retried after a failure is not counted twice here either.
 */
export function withAnalyticsEngine(
  inner: MetricSink,
  dataset: Pick<AnalyticsEngineDataset, "writeDataPoint">,
): MetricSink {
  return {
    async ingest(batch: MetricBatch) {
      await inner.ingest(batch);
      for (const d of batch.deltas.slice(0, AE_POINTS_PER_BATCH))
        dataset.writeDataPoint({ indexes: [d.t || "platform"], blobs: [d.n, d.l, d.t, batch.id], doubles: [d.v] });
    },
  };
}
