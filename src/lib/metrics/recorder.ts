import { Cadence } from "../cadence";
import { log } from "../log";
import { METRICS, type CounterName, type HistogramName, type Labels, type MetricName } from "./catalogue";

/** One series' increment: a counter, a delta gauge, or one histogram row (`_bucket` with `le`, `_sum`, `_count`). */
export interface Delta {
  /** The sample name: a metric's name, or a histogram's `<name>_bucket`, `_sum`, `_count`. */
  n: string;
  /** The labels, rendered as the exposition writes them (`route="/v1/me",method="GET"`). */
  l: string;
  /** The tenant id the increment belongs to ("" for none). */
  t: string;
  v: number;
}

/** A gauge whose value an isolate sets (a breaker's state): the aggregator keeps each isolate's last. */
export interface GaugeSet {
  n: MetricName;
  l: string;
  v: number;
}

/**
 * What an isolate sends: its deltas since the last batch, under an id of its own. A batch that
 * failed is sent again with the same id, so the aggregator applies each batch once.
 */
export interface MetricBatch {
  id: string;
  isolate: string;
  deltas: Delta[];
  sets: GaugeSet[];
}

/** Where batches go: the aggregating Durable Object (src/durable/metrics-hub.ts). */
export interface MetricSink {
  ingest(batch: MetricBatch): Promise<void>;
}

/** At most one flush a second, or sooner after this many recorded events. */
export const FLUSH_INTERVAL_MS = 1000;
export const FLUSH_EVENTS = 500;
/** Batches kept for retry while the aggregator is unreachable; older ones are dropped (and counted). */
const MAX_UNSENT = 30;

/** `k="v"` pairs in declared order, escaped as the text format wants (backslash, quote, newline). */
export function renderLabels(names: readonly string[], values: Record<string, string | number>): string {
  let out = "";
  for (const k of names) {
    const v = String(values[k] ?? "");
    const escaped = /[\\"\n]/.test(v) ? v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : v;
    out += `${out ? "," : ""}${k}="${escaped}"`;
  }
  return out;
}

/** Formats a histogram bound as its `le` label (`0.005`, `+Inf`). */
export const leOf = (bound: number | "+Inf") =>
  bound === "+Inf" || bound === Number.POSITIVE_INFINITY ? "+Inf" : String(bound);

/**
 * The isolate's metric accumulator (docs/operations.md, "Metrics"). Isolates are many and
 * short-lived, so nothing is exposed from here: recording only adds to maps, and the deltas are
 * flushed (off the response path, by `waitUntil`) to the aggregating Durable Object, which sums
 * every isolate's batches exactly once and serves the exposition.
 */
export class Recorder {
  private deltas = new Map<string, Delta>();
  private sets = new Map<string, GaugeSet>();
  private batches: MetricBatch[] = [];
  private events = 0;
  private sending = false;
  private readonly cadence = new Cadence(FLUSH_INTERVAL_MS, FLUSH_EVENTS);
  private id: string | undefined;
  /** TELEMETRY=off turns recording off (src/lib/telemetry.ts). */
  enabled = true;

  /** This isolate's id (made on first use: workerd forbids randomness at module load). */
  get isolate(): string {
    this.id ??= crypto.randomUUID();
    return this.id;
  }

  /** Adds to a counter (or to a gauge kept as a sum of deltas, such as open sockets). */
  add<N extends CounterName>(name: N, labels: Labels<N>, by = 1, tenant = ""): void {
    if (!this.enabled) return;
    this.bump(name, renderLabels(METRICS[name].labels, labels), tenant, by);
  }

  /** Records one observation of a histogram, in seconds. */
  observe<N extends HistogramName>(name: N, labels: Labels<N>, seconds: number, tenant = ""): void {
    if (!this.enabled) return;
    const def = METRICS[name];
    const l = renderLabels(def.labels, labels);
    const bound = def.buckets.find((b) => seconds <= b) ?? Number.POSITIVE_INFINITY;
    this.bump(`${name}_bucket`, `${l}${l ? "," : ""}le="${leOf(bound)}"`, tenant, 1);
    this.bump(`${name}_sum`, l, tenant, seconds);
    this.bump(`${name}_count`, l, tenant, 1);
  }

  /** Sets a gauge this isolate owns (the aggregator keeps each isolate's latest value). */
  set<N extends MetricName>(name: N, labels: Labels<N>, value: number): void {
    if (!this.enabled) return;
    const l = renderLabels(METRICS[name].labels, labels);
    this.sets.set(`${name}\u0000${l}`, { n: name, l, v: value });
    this.events++;
  }

  private bump(n: string, l: string, t: string, v: number): void {
    const key = `${n}\u0000${t}\u0000${l}`;
    const d = this.deltas.get(key);
    if (d) d.v += v;
    else this.deltas.set(key, { n, l, t, v });
    this.events++;
  }

  /**
   * Flushes when due (a second since the last flush, or enough events), else makes sure a flush
   * is scheduled for when it is (src/lib/cadence.ts): every delta reaches the aggregator within
   * about a second, even if this isolate gets no further request. Never awaited on the response path.
   */
  flushSoon(sink: () => MetricSink, waitUntil: (p: Promise<unknown>) => void, now = Date.now()): void {
    this.cadence.soon(this.events + this.batches.length, () => this.flush(sink()), waitUntil, now);
  }

  /**
   * Sends what has accumulated as one new batch, after any batches that failed before (in
   * order, each with its own id). A batch that fails stays for the next flush.
   */
  async flush(sink: MetricSink): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      if (this.deltas.size) {
        // Gauges this isolate sets ride along with every batch: the aggregator forgets an
        // isolate's gauge 2 minutes after its last report (isolates die without a word).
        this.batches.push({
          id: crypto.randomUUID(),
          isolate: this.isolate,
          deltas: [...this.deltas.values()],
          sets: [...this.sets.values()],
        });
        this.deltas = new Map();
      }
      this.events = 0;
      while (this.batches.length > MAX_UNSENT) {
        const dropped = this.batches.shift()!;
        log("warn", "metric batch dropped: the aggregator was unreachable too long", { batchId: dropped.id });
        this.add("canopy_metrics_flushes_total", { outcome: "dropped" });
      }
      while (this.batches.length) {
        const batch = this.batches[0]!;
        try {
          await sink.ingest(batch);
        } catch {
          // Counted, not logged: this runs after responses (and after a test's end, where a log
          // line would outlive its runner); the counter's alert says when it keeps happening.
          this.add("canopy_metrics_flushes_total", { outcome: "retried" });
          return;
        }
        this.batches.shift();
        this.add("canopy_metrics_flushes_total", { outcome: "ok" });
      }
    } finally {
      this.sending = false;
    }
  }

  /** Batches made and not yet delivered (a flush failed). */
  get unsent(): number {
    return this.batches.length;
  }
}

/** The isolate's recorder: everything this isolate's requests, consumers and objects record. */
export const metrics = new Recorder();
