import { Cadence } from "../cadence";
import { metrics } from "../metrics/recorder";
import { bufferedSpans, SpanKind, type SpanRecord, takeSpans } from "./spans";

/** At most one export a second, or sooner at this many spans; one POST carries at most this many. */
const EXPORT_EVERY_MS = 1000;
const EXPORT_BATCH = 512;
const EXPORT_TIMEOUT_MS = 5000;

const ms2ns = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`;
const value = (v: string | number | boolean) =>
  typeof v === "string"
    ? { stringValue: v }
    : typeof v === "boolean"
      ? { boolValue: v }
      : Number.isInteger(v)
        ? { intValue: String(v) }
        : { doubleValue: v };

/**
 * Spans as an OTLP/HTTP JSON `ExportTraceServiceRequest`
 * (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): ids in hex, times as
 * decimal strings of Unix nanoseconds, one resource (the service) and one scope.
 */
export function otlpBody(spans: readonly SpanRecord[], service: { name: string; environment: string }): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: "service.name", value: { stringValue: service.name } },
            { key: "deployment.environment", value: { stringValue: service.environment } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: "canopy" },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: SpanKind[s.kind],
              startTimeUnixNano: ms2ns(s.startMs),
              endTimeUnixNano: ms2ns(Math.max(s.endMs, s.startMs)),
              attributes: Object.entries(s.attributes).map(([key, v]) => ({ key, value: value(v) })),
              status: s.error === undefined ? { code: 1 } : { code: 2, message: s.error.slice(0, 200) },
            })),
          },
        ],
      },
    ],
  });
}

type TraceEnv = Pick<Env, "OTEL_EXPORTER_OTLP_ENDPOINT" | "OTEL_EXPORTER_OTLP_HEADERS" | "ENVIRONMENT">;

/** `key=value,key2=value2` (the OTel environment variable's format) as headers. */
function headersOf(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (spec ?? "").split(",")) {
    const i = pair.indexOf("=");
    if (i > 0) out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  return out;
}

/**
 * Sends buffered spans to the collector; a batch the collector does not take (down, slow, 4xx
 * or 5xx) is dropped and counted, never retried: traces are a sample, memory is bounded.
 */
async function exportNow(env: TraceEnv): Promise<void> {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "");
  while (bufferedSpans() > 0) {
    const batch = takeSpans(EXPORT_BATCH);
    try {
      const res = await fetch(`${endpoint}/v1/traces`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headersOf(env.OTEL_EXPORTER_OTLP_HEADERS) },
        body: otlpBody(batch, { name: "canopy", environment: env.ENVIRONMENT }),
        signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`collector answered ${res.status}`);
    } catch {
      // Counted, not logged (as metric batches): a collector that is down would log every second.
      metrics.add("canopy_spans_dropped_total", { reason: "export_failed" }, batch.length);
      return;
    }
  }
}

const cadence = new Cadence(EXPORT_EVERY_MS, EXPORT_BATCH);

/** Exports this isolate's finished spans when due (off the response path), if a collector is set. */
export function exportSpansSoon(env: TraceEnv, waitUntil: (p: Promise<unknown>) => void): void {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    takeSpans(); // no collector: nothing is kept
    return;
  }
  cadence.soon(bufferedSpans(), () => exportNow(env), waitUntil);
}
