/**
 * Every metric Canopy exposes (docs/operations.md, "Metrics"): its name, type, help text and
 * labels. Recording takes names from here, so a series nobody declared cannot appear; the
 * exposition lists every family, even one with no samples yet, so dashboards and alert rules can
 * be checked against it.
 *
 * Label values are bounded by construction: `route` is the matched route template (never a raw
 * path), `status` an HTTP status, `queue` one of the Worker's queues, `kind`/`class`/`type`/`outcome`
 * values from fixed lists in the code that records them. The only tenant-valued label is on
 * `canopy_tenant_http_requests_total`, capped at the top tenants plus `other`.
 */
export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricDef {
  type: MetricType;
  help: string;
  labels: readonly string[];
  /** Histogram upper bounds, in seconds. */
  buckets?: readonly number[];
}

/** Request-sized latencies: 5 ms to 10 s. */
const LATENCY = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Queue lag: 100 ms to an hour (retries back off for minutes). */
const LAG = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600] as const;

export const METRICS = {
  canopy_http_requests_total: {
    type: "counter",
    help: "HTTP requests answered, by matched route template, method and status.",
    labels: ["route", "method", "status"],
  },
  canopy_http_request_duration_seconds: {
    type: "histogram",
    help: "Time from a request's arrival to its response, by route template and method.",
    labels: ["route", "method"],
    buckets: LATENCY,
  },
  canopy_tenant_http_requests_total: {
    type: "counter",
    help: 'HTTP requests by tenant: the top tenants by requests, the rest summed as tenant="other".',
    labels: ["tenant"],
  },
  canopy_ws_connections: {
    type: "gauge",
    help: "Open realtime WebSocket connections.",
    labels: [],
  },
  canopy_ws_frames_total: {
    type: "counter",
    help: "Realtime frames received from clients, by frame type (invalid: refused before a type was known).",
    labels: ["type"],
  },
  canopy_ws_disconnects_total: {
    type: "counter",
    help: "Realtime WebSocket connections that ended, by who ended them (client, server, error).",
    labels: ["reason"],
  },
  canopy_messages_total: {
    type: "counter",
    help: "Chat messages stored (each once, retries excluded).",
    labels: [],
  },
  canopy_queue_messages_total: {
    type: "counter",
    help: "Queue messages handled, by queue and outcome (processed, retried, dead_lettered).",
    labels: ["queue", "outcome"],
  },
  canopy_queue_lag_seconds: {
    type: "histogram",
    help: "Time from an event's publication to its handling by a consumer.",
    labels: ["queue"],
    buckets: LAG,
  },
  canopy_dead_letters: {
    type: "gauge",
    help: "Dead letters stored and not yet replayed or discarded.",
    labels: [],
  },
  canopy_db_queries_total: {
    type: "counter",
    help: "Database round trips (Hrana requests), by database (platform, tenant) and outcome (ok, error, timeout, rejected).",
    labels: ["db", "outcome"],
  },
  canopy_db_query_duration_seconds: {
    type: "histogram",
    help: "Database round-trip time, by database (platform, tenant).",
    labels: ["db"],
    buckets: LATENCY,
  },
  canopy_auth_events_total: {
    type: "counter",
    help: "Authentication events by kind (login, login_failed, mfa_failed, password_failed, code_failed, lockout, refresh, refresh_reuse, refresh_failed, register).",
    labels: ["kind"],
  },
  canopy_rate_limited_total: {
    type: "counter",
    help: "Requests refused by a rate limit, by limit class.",
    labels: ["class"],
  },
  canopy_circuit_state: {
    type: "gauge",
    help: "Worst circuit breaker state of a dependency across isolates that reported in the last 2 minutes (0 closed, 1 half-open, 2 open).",
    labels: ["dependency"],
  },
  canopy_circuit_transitions_total: {
    type: "counter",
    help: "Circuit breaker state changes, by dependency and the state entered.",
    labels: ["dependency", "state"],
  },
  canopy_ai_calls_total: {
    type: "counter",
    help: "Calls to AI providers, by provider and outcome (ok, degraded, aborted, error; refused: quota exhausted, provider none).",
    labels: ["provider", "outcome"],
  },
  canopy_ai_quota_warnings_total: {
    type: "counter",
    help: "AI quota warnings raised (a user or tenant pool crossed its warning threshold).",
    labels: [],
  },
  canopy_tenants: {
    type: "gauge",
    help: "Tenants on the platform, by status.",
    labels: ["status"],
  },
  canopy_spans_dropped_total: {
    type: "counter",
    help: "Trace spans dropped because the collector could not take them or the buffer was full.",
    labels: ["reason"],
  },
  canopy_metrics_flushes_total: {
    type: "counter",
    help: "Metric batches sent by isolates to the aggregator, by outcome (ok, retried, dropped).",
    labels: ["outcome"],
  },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;
type LabelsOf<N extends MetricName> = (typeof METRICS)[N]["labels"][number];
/** The label values a metric takes: every declared label, nothing else. */
export type Labels<N extends MetricName> = { readonly [K in LabelsOf<N>]: string | number };
export type CounterName = {
  [N in MetricName]: (typeof METRICS)[N]["type"] extends "histogram" ? never : N;
}[MetricName];
export type HistogramName = {
  [N in MetricName]: (typeof METRICS)[N]["type"] extends "histogram" ? N : never;
}[MetricName];
