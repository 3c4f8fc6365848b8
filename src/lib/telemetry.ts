import { metrics } from "./metrics/recorder";
import { configureTracing } from "./tracing/spans";

/**
 * Applies the deployment's telemetry settings to this isolate (cheap: called at the start of every
 * request, queue batch and Durable Object): TELEMETRY=off records no metrics and no spans; spans
 * are recorded only when a collector is set (OTEL_EXPORTER_OTLP_ENDPOINT).
 */
export function configureTelemetry(env: { TELEMETRY?: string; OTEL_EXPORTER_OTLP_ENDPOINT?: string }): void {
  const on = env.TELEMETRY !== "off";
  metrics.enabled = on;
  configureTracing(on ? env : {});
}

/** OTEL_TRACES_SAMPLER_ARG as a ratio in [0, 1] (1 when unset or unreadable). */
export function samplerRatio(env: { OTEL_TRACES_SAMPLER_ARG?: string }): number {
  const r = Number.parseFloat(env.OTEL_TRACES_SAMPLER_ARG ?? "");
  return Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 1;
}
