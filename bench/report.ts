/**
 * Turns per-round results into the markdown report: the comparison table (ratios taken within
 * each round, then the median over rounds, with min–max as spread) and the raw figures per target.
 */
import { median, type LatencyResult, type ThroughputResult } from "./measure";

export type TargetKey = "bare" | "chain" | "tenantRead" | "floor" | "libsqlServer";

export interface RoundResult {
  latency: Record<TargetKey, LatencyResult>;
  throughput: Record<TargetKey, ThroughputResult>;
}

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  workerd: string;
  date: string;
  commit: string;
  /** 1/5/15-minute load averages just before the first round. */
  load: string;
}

export interface Settings {
  rounds: number;
  requests: number;
  connections: number;
  seconds: number;
}

type Pick = (r: RoundResult, k: TargetKey) => number;

interface Row {
  metric: string;
  candidate: TargetKey;
  baseline: TargetKey;
  pick: Pick;
  unit: "µs" | "req/s";
  /** Pass when ratio <= maxRatio. */
  maxRatio?: number;
}

export const LABELS: Record<TargetKey, string> = {
  bare: "bare route `GET /__bare`",
  chain: "chain `GET /v1/time`",
  tenantRead: "tenant DB read `GET /v1/tenant`",
  floor: "floor: Node http + in-process `libsql`",
  libsqlServer: "local libSQL server, Hrana point select",
};

const SHORT: Record<TargetKey, string> = {
  bare: "bare",
  chain: "chain",
  tenantRead: "tenant read",
  floor: "floor",
  libsqlServer: "server",
};

const p50: Pick = (r, k) => r.latency[k].p50;
const p90: Pick = (r, k) => r.latency[k].p90;
const p99: Pick = (r, k) => r.latency[k].p99;
const rps: Pick = (r, k) => r.throughput[k].rps;

const ROWS: Row[] = [
  { metric: "chain p50 latency", candidate: "chain", baseline: "bare", pick: p50, unit: "µs", maxRatio: 1.3 },
  { metric: "chain p90 latency", candidate: "chain", baseline: "bare", pick: p90, unit: "µs" },
  { metric: "chain p99 latency (noisy)", candidate: "chain", baseline: "bare", pick: p99, unit: "µs" },
  { metric: "chain throughput", candidate: "chain", baseline: "bare", pick: rps, unit: "req/s" },
  { metric: "tenant DB read p50 latency", candidate: "tenantRead", baseline: "bare", pick: p50, unit: "µs" },
  { metric: "tenant DB read p50 vs chain", candidate: "tenantRead", baseline: "chain", pick: p50, unit: "µs" },
  { metric: "tenant DB read p90 latency", candidate: "tenantRead", baseline: "bare", pick: p90, unit: "µs" },
  { metric: "tenant DB read throughput", candidate: "tenantRead", baseline: "bare", pick: rps, unit: "req/s" },
  { metric: "libSQL server p50 latency", candidate: "libsqlServer", baseline: "floor", pick: p50, unit: "µs", maxRatio: 2 },
  { metric: "libSQL server p90 latency", candidate: "libsqlServer", baseline: "floor", pick: p90, unit: "µs" },
  { metric: "libSQL server p99 latency (noisy)", candidate: "libsqlServer", baseline: "floor", pick: p99, unit: "µs" },
  { metric: "libSQL server throughput", candidate: "libsqlServer", baseline: "floor", pick: rps, unit: "req/s" },
];

function fmt(v: number, unit: "µs" | "req/s"): string {
  return unit === "µs" ? `${Math.round(v)} µs` : `${Math.round(v).toLocaleString("en-US")} req/s`;
}

const x = (v: number): string => `${v.toFixed(2)}x`;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

export interface Verdict {
  markdown: string;
  allGoalsMet: boolean;
}

export function report(rounds: RoundResult[], machine: Machine, s: Settings, notes: string[]): Verdict {
  let allGoalsMet = true;
  const compare = ROWS.map((row) => {
    const cand = rounds.map((r) => row.pick(r, row.candidate));
    const base = rounds.map((r) => row.pick(r, row.baseline));
    const ratios = rounds.map((_, i) => cand[i]! / base[i]!);
    const ratio = median(ratios);
    let goal = "—";
    let verdict = "—";
    if (row.maxRatio !== undefined) {
      goal = `≤ ${x(row.maxRatio)}`;
      const ok = ratio <= row.maxRatio;
      allGoalsMet &&= ok;
      verdict = ok ? "**pass**" : "**FAIL**";
    }
    return [
      row.metric,
      `${fmt(median(cand), row.unit)} (${SHORT[row.candidate]})`,
      `${fmt(median(base), row.unit)} (${SHORT[row.baseline]})`,
      x(ratio),
      `${x(Math.min(...ratios))}–${x(Math.max(...ratios))}`,
      goal,
      verdict,
    ];
  });

  const keys: TargetKey[] = ["bare", "chain", "tenantRead", "floor", "libsqlServer"];
  const spread = (vals: number[], unit: "µs" | "req/s"): string =>
    `${fmt(median(vals), unit)} (${Math.round(Math.min(...vals))}–${Math.round(Math.max(...vals))})`;
  const raw = keys.map((k) => {
    const bad = rounds.reduce((n, r) => n + r.latency[k].bad + r.throughput[k].non2xx, 0);
    const errs = rounds.reduce((n, r) => n + r.throughput[k].errors + r.throughput[k].timeouts, 0);
    return [
      LABELS[k],
      spread(rounds.map((r) => r.latency[k].p50), "µs"),
      spread(rounds.map((r) => r.latency[k].p90), "µs"),
      spread(rounds.map((r) => r.latency[k].p99), "µs"),
      spread(rounds.map((r) => r.throughput[k].rps), "req/s"),
      `${bad} / ${errs}`,
    ];
  });

  const markdown = [
    `## Canopy benchmark, ${machine.date}`,
    "",
    `Machine: ${machine.nproc} CPUs (${machine.cpu}), Node ${machine.node}, ${machine.workerd}, commit ${machine.commit}; load average before the rounds ${machine.load}.`,
    `Method: ${s.rounds} interleaved rounds; latency = ${s.requests} sequential requests per target per round, one keep-alive connection per target, targets interleaved in chunks of 100; ` +
      `throughput = autocannon, ${s.connections} connections, ${s.seconds} s per target per round in 1 s slices alternating between targets. ` +
      "Ratio = candidate / baseline within a round, median over rounds; spread = min–max of the per-round ratios.",
    "",
    table(["metric", "candidate (median)", "baseline (median)", "ratio", "spread", "goal", "result"], compare),
    "",
    "Per target: median over rounds (min–max).",
    "",
    table(["target", "p50", "p90", "p99", "throughput", "non-2xx / socket errors"], raw),
    ...(notes.length > 0 ? ["", ...notes.map((n) => `- ${n}`)] : []),
    "",
    `Goals: ${allGoalsMet ? "all met" : "NOT all met"}.`,
    "",
  ].join("\n");
  return { markdown, allGoalsMet };
}
