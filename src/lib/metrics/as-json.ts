import { METRICS, type MetricName } from "./catalogue";
import { byName, histogramSeries, type Sample } from "./exposition";

const PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Labels rendered as `k="v",…` back into an object (unescaping `\\`, `\"` and `\n`). */
export function parseLabels(rendered: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of rendered.matchAll(PAIR))
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
  return out;
}

export interface JsonSeries {
  labels: Record<string, string>;
  value: number;
}
export interface JsonHistogram {
  labels: Record<string, string>;
  count: number;
  sumSeconds: number;
  /** Cumulative counts by upper bound (seconds), as in the exposition. */
  buckets: { le: number | "+Inf"; count: number }[];
}

/** Samples as JSON by metric name: counters and gauges as series, histograms with cumulative buckets. */
export function samplesAsJson(samples: readonly Sample[]): Record<string, JsonSeries[] | JsonHistogram[]> {
  const named = byName(samples);
  const out: Record<string, JsonSeries[] | JsonHistogram[]> = {};
  for (const name of Object.keys(METRICS) as MetricName[]) {
    const def = METRICS[name];
    if (def.type === "histogram") {
      const hist = histogramSeries(name, def.buckets, named).map((h) => ({
        labels: parseLabels(h.labels),
        count: h.count,
        sumSeconds: h.sum,
        buckets: h.buckets,
      }));
      if (hist.length) out[name] = hist;
    } else {
      const series = named.get(name) ?? [];
      if (series.length) out[name] = series.map((s) => ({ labels: parseLabels(s.labels), value: s.value }));
    }
  }
  return out;
}
