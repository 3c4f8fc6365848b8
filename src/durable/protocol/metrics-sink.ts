import { metrics, type MetricSink } from "../../lib/metrics/recorder";
import { withAnalyticsEngine } from "../../lib/metrics/analytics-engine";
import { exportSpansSoon } from "../../lib/tracing/otlp";
import { metricsHubStub, metricsShards } from "./stubs";

/** The aggregator shard of an isolate: a stable hash of its id, so its batches land in one place. */
function shardOf(isolate: string, shards: number): number {
  let h = 0;
  for (let i = 0; i < isolate.length; i++) h = (h * 31 + isolate.charCodeAt(i)) >>> 0;
  return h % shards;
}

/** The optional Analytics Engine dataset (declared in wrangler.toml only where wanted: docs/operations.md). */
type MaybeAnalytics = { METRICS_ANALYTICS?: AnalyticsEngineDataset };

/**
 * Batches to the aggregating Durable Objects (a stub is made per flush: stubs are per request),
 * and to Workers Analytics Engine as well when the `METRICS_ANALYTICS` dataset is bound.
 */
export function metricsSink(env: Pick<Env, "METRICS_HUB" | "METRICS_SHARDS"> & MaybeAnalytics): MetricSink {
  const hub: MetricSink = {
    async ingest(batch) {
      await metricsHubStub(env, shardOf(batch.isolate, metricsShards(env))).ingest(batch);
    },
  };
  return env.METRICS_ANALYTICS ? withAnalyticsEngine(hub, env.METRICS_ANALYTICS) : hub;
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

/** An object's metrics and finished spans, handed on when due (off the path of its callers). */
export function flushTelemetrySoon(env: Env, waitUntil: (p: Promise<unknown>) => void): void {
  flushMetricsSoon(env, waitUntil);
  exportSpansSoon(env, waitUntil);
}
