import { METRICS, type MetricName } from "./catalogue";
import { leOf } from "./recorder";

/** One sample as the aggregator sums it: a sample name (with `_bucket`/`_sum`/`_count`), labels, value. */
export interface Sample {
  name: string;
  labels: string;
  value: number;
}

export type ExpositionFormat = "prometheus" | "openmetrics";

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  prometheus: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/** OpenMetrics when the scraper asks for it by `Accept` (Prometheus does), else the classic text format. */
export const formatFor = (accept: string | undefined): ExpositionFormat =>
  accept?.includes("application/openmetrics-text") ? "openmetrics" : "prometheus";

const num = (v: number) =>
  Number.isNaN(v)
    ? "NaN"
    : v === Number.POSITIVE_INFINITY
      ? "+Inf"
      : v === Number.NEGATIVE_INFINITY
        ? "-Inf"
        : String(v);
const line = (name: string, labels: string, value: number) => `${name}${labels ? `{${labels}}` : ""} ${num(value)}\n`;
const helpText = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const LE = /(?:^|,)le="([^"]*)"$/;

/**
 * Renders every family of the catalogue, in catalogue order, with the samples it has (a family
 * with none still gets its HELP and TYPE). Histogram buckets arrive as counts per bucket and
 * leave cumulative, with `+Inf` equal to `_count`, as the format requires.
 */
export function renderExposition(samples: readonly Sample[], format: ExpositionFormat): string {
  const named = byName(samples);
  let out = "";
  for (const name of Object.keys(METRICS) as MetricName[]) {
    const def = METRICS[name];
    // OpenMetrics names a counter's family without its `_total` suffix.
    const family = format === "openmetrics" && def.type === "counter" ? name.replace(/_total$/, "") : name;
    out += `# HELP ${family} ${helpText(def.help)}\n# TYPE ${family} ${def.type}\n`;
    if (def.type !== "histogram") {
      for (const s of sorted(named.get(name))) out += line(name, s.labels, s.value);
      continue;
    }
    out += histogram(name, def.buckets, named);
  }
  return format === "openmetrics" ? `${out}# EOF\n` : out;
}

const sorted = (list: Sample[] | undefined) => (list ?? []).slice().sort((a, b) => (a.labels < b.labels ? -1 : 1));

/** A histogram's series: per label set (without `le`), cumulative bucket counts, sum and count. */
export interface HistogramSeries {
  labels: string;
  buckets: { le: number | "+Inf"; count: number }[];
  sum: number;
  count: number;
}

/** Gathers a histogram's summed rows (a count per bucket) into cumulative series. */
export function histogramSeries(
  name: string,
  bounds: readonly number[],
  byName: ReadonlyMap<string, Sample[]>,
): HistogramSeries[] {
  const perSet = new Map<string, Map<string, number>>();
  for (const s of byName.get(`${name}_bucket`) ?? []) {
    const m = LE.exec(s.labels);
    if (!m) continue;
    const base = s.labels.slice(0, m.index);
    const counts = perSet.get(base) ?? new Map<string, number>();
    counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + s.value);
    perSet.set(base, counts);
  }
  const sums = new Map((byName.get(`${name}_sum`) ?? []).map((s) => [s.labels, s.value]));
  return sorted(byName.get(`${name}_count`)).map((c) => {
    const perBound = perSet.get(c.labels) ?? new Map<string, number>();
    let cumulative = 0;
    const buckets: HistogramSeries["buckets"] = bounds.map((le) => {
      cumulative += perBound.get(String(le)) ?? 0;
      return { le, count: cumulative };
    });
    buckets.push({ le: "+Inf", count: c.value });
    return { labels: c.labels, buckets, sum: sums.get(c.labels) ?? 0, count: c.value };
  });
}

/** Samples by sample name. */
export function byName(samples: readonly Sample[]): Map<string, Sample[]> {
  const map = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = map.get(s.name);
    if (list) list.push(s);
    else map.set(s.name, [s]);
  }
  return map;
}

function histogram(name: string, bounds: readonly number[], samples: ReadonlyMap<string, Sample[]>): string {
  let out = "";
  for (const h of histogramSeries(name, bounds, samples)) {
    const sep = h.labels ? "," : "";
    for (const b of h.buckets) out += line(`${name}_bucket`, `${h.labels}${sep}le="${leOf(b.le)}"`, b.count);
    out += line(`${name}_sum`, h.labels, h.sum);
    out += line(`${name}_count`, h.labels, h.count);
  }
  return out;
}
