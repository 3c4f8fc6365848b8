import { metrics, type MetricSink } from "../../lib/metrics/recorder";
import { metricsHubStub, metricsShards } from "./stubs";

/** The aggregator shard of an isolate: a stable hash of its id, so its batches land in one place. */
function shardOf(isolate: string, shards: number): number {
  let h = 0;
  for (let i = 0; i < isolate.length; i++) h = (h * 31 + isolate.charCodeAt(i)) >>> 0;
  return h % shards;
}

/** Batches to the aggregating Durable Objects (a stub is made per flush: stubs are per request). */
export function metricsSink(env: Pick<Env, "METRICS_HUB" | "METRICS_SHARDS">): MetricSink {
  return {
    async ingest(batch) {
      await metricsHubStub(env, shardOf(batch.isolate, metricsShards(env))).ingest(batch);
    },
  };
}

/**
 * Hands this isolate's recorded metrics to the aggregator when due (docs/operations.md), off the
 * response path: the Worker calls it after each request and queue batch, objects after their work.
 */
export function flushMetricsSoon(
  env: Pick<Env, "METRICS_HUB" | "METRICS_SHARDS">,
  waitUntil: (p: Promise<unknown>) => void,
): void {
  metrics.flushSoon(() => metricsSink(env), waitUntil);
}
