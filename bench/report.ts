/**
 * Turns per-round results into the markdown report: the comparison table (ratios taken within
 * each round, then the median over rounds, with min–max as spread) and the raw figures per target.
 */
import { median, type LatencyResult, type ThroughputResult } from "./measure";
import { table } from "./markdown";
import { authTable, type AuthRound } from "./report-auth";

/** Targets measured for latency and throughput. */
export type LatencyKey =
  | "bare"
  | "chain"
  | "authed"
  | "tenantRead"
  | "rpcFloor"
  | "hranaFloor"
  | "floor"
  | "libsqlServer";
/** … plus throughput-only targets, minus the latency-only floors of the bench bundle. */
export type TargetKey = Exclude<LatencyKey, "rpcFloor" | "hranaFloor"> | "authedOneUser";

export interface RoundResult {
  latency: Record<LatencyKey, LatencyResult>;
  throughput: Record<TargetKey, ThroughputResult>;
  auth: AuthRound;
}

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  workerd: string;
  date: string;
  commit: string;
  /** 1/5/15-minute load averages just before the first round, and after the last. */
  load: string;
  loadAfter: string;
}

export interface Settings {
  rounds: number;
  requests: number;
  connections: number;
  seconds: number;
}

interface Row {
  metric: string;
  candidate: string;
  baseline: string;
  cand: (r: RoundResult) => number;
  base: (r: RoundResult) => number;
  unit: "µs" | "req/s" | "/s";
  /** Pass when ratio <= maxRatio (the median, or every round's with `everyRound`). */
  maxRatio?: number;
  /** Pass when ratio >= minRatio. */
  minRatio?: number;
  everyRound?: boolean;
}

export const LABELS: Record<TargetKey | "rpcFloor" | "hranaFloor", string> = {
  bare: "bare route `GET /__bare`",
  chain: "chain `GET /v1/time`",
  authed: "authed `GET /v1/auth/whoami` (N users for throughput)",
  authedOneUser: "authed, all connections as one user",
  tenantRead: "tenant DB read `GET /v1/tenant`",
  rpcFloor: "RPC floor `GET /__floor/rpc` (one empty Durable Object RPC)",
  hranaFloor: "Hrana floor `GET /__floor/hrana` (the tenant read's pipeline, plain fetch)",
  floor: "floor: Node http + in-process `libsql`",
  libsqlServer: "local libSQL server, Hrana point select",
};

const SHORT: Record<TargetKey | "rpcFloor" | "hranaFloor", string> = {
  rpcFloor: "RPC floor",
  hranaFloor: "Hrana floor",
  bare: "bare",
  chain: "chain",
  authed: "authed",
  authedOneUser: "authed, 1 user",
  tenantRead: "tenant read",
  floor: "floor",
  libsqlServer: "server",
};

type Quantile = "p50" | "p90" | "p99";

/** A latency row: quantile `q` of `c` over the same quantile of `b`. */
function lat(metric: string, c: LatencyKey, b: LatencyKey, q: Quantile, maxRatio?: number): Row {
  const row: Row = {
    metric,
    candidate: SHORT[c],
    baseline: SHORT[b],
    cand: (r) => r.latency[c][q],
    base: (r) => r.latency[b][q],
    unit: "µs",
  };
  return maxRatio === undefined ? row : { ...row, maxRatio };
}

/** A throughput row (req/s of `c` over req/s of `b`). */
function thr(metric: string, c: TargetKey, b: TargetKey): Row {
  return {
    metric,
    candidate: SHORT[c],
    baseline: SHORT[b],
    cand: (r) => r.throughput[c].rps,
    base: (r) => r.throughput[b].rps,
    unit: "req/s",
  };
}

const p50 = (r: RoundResult, k: LatencyKey) => r.latency[k].p50;

/** Issue 29's goal rows: each ratio against a floor measured in the same round. */
const GOALS: Row[] = [
  { ...lat("chain p50 latency", "chain", "bare", "p50", 1.3), everyRound: true },
  {
    metric: "authed − chain vs RPC floor",
    candidate: "authed − chain",
    baseline: "RPC floor − bare",
    cand: (r) => p50(r, "authed") - p50(r, "chain"),
    base: (r) => p50(r, "rpcFloor") - p50(r, "bare"),
    unit: "µs",
    maxRatio: 1.3,
  },
  {
    metric: "tenant DB read p50 vs floor",
    candidate: "tenant read",
    baseline: "chain + Hrana floor − bare",
    cand: (r) => p50(r, "tenantRead"),
    base: (r) => p50(r, "chain") + p50(r, "hranaFloor") - p50(r, "bare"),
    unit: "µs",
    maxRatio: 1.3,
  },
  {
    metric: "login throughput vs PBKDF2 bound",
    candidate: "loaded login",
    baseline: "PBKDF2 floor",
    cand: (r) => r.auth.loginLoad.rps,
    base: (r) => r.auth.pbkdf2Load.rps,
    unit: "/s",
    minRatio: 0.8,
  },
];

const ROWS: Row[] = [
  ...GOALS,
  lat("chain p90 latency", "chain", "bare", "p90"),
  lat("chain p99 latency (noisy)", "chain", "bare", "p99"),
  thr("chain throughput", "chain", "bare"),
  lat("authed p50 latency", "authed", "bare", "p50"),
  lat("authed p50 vs chain", "authed", "chain", "p50"),
  lat("authed p90 latency", "authed", "bare", "p90"),
  thr("authed throughput, N users", "authed", "bare"),
  thr("authed throughput vs chain", "authed", "chain"),
  thr("authed throughput, 1 user vs N users", "authedOneUser", "authed"),
  lat("tenant DB read p50 latency", "tenantRead", "bare", "p50"),
  lat("tenant DB read p50 vs chain", "tenantRead", "chain", "p50"),
  lat("tenant DB read p90 latency", "tenantRead", "bare", "p90"),
  thr("tenant DB read throughput", "tenantRead", "bare"),
  lat("libSQL server p50 latency", "libsqlServer", "floor", "p50", 2),
  lat("libSQL server p90 latency", "libsqlServer", "floor", "p90"),
  lat("libSQL server p99 latency (noisy)", "libsqlServer", "floor", "p99"),
  thr("libSQL server throughput", "libsqlServer", "floor"),
];

function fmt(v: number, unit: Row["unit"]): string {
  if (unit === "/s") return `${v.toFixed(1)}/s`;
  return unit === "µs" ? `${Math.round(v)} µs` : `${Math.round(v).toLocaleString("en-US")} req/s`;
}

const x = (v: number): string => `${v.toFixed(2)}x`;

export interface Verdict {
  markdown: string;
  allGoalsMet: boolean;
}

export function report(rounds: RoundResult[], machine: Machine, s: Settings, notes: string[]): Verdict {
  let allGoalsMet = true;
  const compare = ROWS.map((row) => {
    const cand = rounds.map(row.cand);
    const base = rounds.map(row.base);
    const ratios = rounds.map((_, i) => cand[i]! / base[i]!);
    const ratio = median(ratios);
    let goal = "—";
    let verdict = "—";
    if (row.maxRatio !== undefined || row.minRatio !== undefined) {
      const judged = row.everyRound ? Math.max(...ratios) : ratio;
      const ok = row.maxRatio !== undefined ? judged <= row.maxRatio : judged >= row.minRatio!;
      goal =
        row.maxRatio !== undefined
          ? `≤ ${x(row.maxRatio)}${row.everyRound ? " in every round" : ""}`
          : `≥ ${x(row.minRatio!)}`;
      allGoalsMet &&= ok;
      verdict = ok ? "**pass**" : "**FAIL**";
    }
    return [
      row.metric,
      `${fmt(median(cand), row.unit)} (${row.candidate})`,
      `${fmt(median(base), row.unit)} (${row.baseline})`,
      x(ratio),
      `${x(Math.min(...ratios))}–${x(Math.max(...ratios))}`,
      goal,
      verdict,
    ];
  });

  const keys: (TargetKey | "rpcFloor" | "hranaFloor")[] = [
    "bare",
    "chain",
    "authed",
    "authedOneUser",
    "tenantRead",
    "rpcFloor",
    "hranaFloor",
    "floor",
    "libsqlServer",
  ];
  const spread = (vals: number[], unit: Row["unit"]): string =>
    `${fmt(median(vals), unit)} (${Math.round(Math.min(...vals))}–${Math.round(Math.max(...vals))})`;
  const raw = keys.map((k) => {
    const l = k === "authedOneUser" ? undefined : k;
    // The floors are measured for latency only.
    const t = k === "rpcFloor" || k === "hranaFloor" ? undefined : k;
    const bad = rounds.reduce((n, r) => n + (l ? r.latency[l].bad : 0) + (t ? r.throughput[t].non2xx : 0), 0);
    const errs = rounds.reduce((n, r) => n + (t ? r.throughput[t].errors + r.throughput[t].timeouts : 0), 0);
    const q = (p: Quantile): string =>
      l
        ? spread(
            rounds.map((r) => r.latency[l][p]),
            "µs",
          )
        : "—";
    return [
      LABELS[k],
      q("p50"),
      q("p90"),
      q("p99"),
      t
        ? spread(
            rounds.map((r) => r.throughput[t].rps),
            "req/s",
          )
        : "—",
      `${bad} / ${errs}`,
    ];
  });

  const markdown = [
    `## Canopy benchmark, ${machine.date}`,
    "",
    `Machine: ${machine.nproc} CPUs (${machine.cpu}), Node ${machine.node}, ${machine.workerd}, commit ${machine.commit}; load average (1/5/15 min) before the rounds ${machine.load}, after them ${machine.loadAfter}.`,
    `Method: ${s.rounds} interleaved rounds; latency = ${s.requests} sequential requests per target per round, one keep-alive connection per target, targets interleaved in chunks of 100; ` +
      `throughput = autocannon, ${s.connections} connections, ${s.seconds} s per target per round in 1 s slices alternating between targets; ` +
      `the authed target's latency is one user, its throughput N = ${s.connections} users (one per connection). ` +
      "Ratio = candidate / baseline within a round, median over rounds; spread = min–max of the per-round ratios.",
    "",
    table(["metric", "candidate (median)", "baseline (median)", "ratio", "spread", "goal", "result"], compare),
    "",
    "Per target: median over rounds (min–max).",
    "",
    table(["target", "p50", "p90", "p99", "throughput", "non-2xx / socket errors"], raw),
    "",
    ...authTable(
      rounds.map((r) => r.auth),
      s.seconds,
    ),
    ...(notes.length > 0 ? ["", ...notes.map((n) => `- ${n}`)] : []),
    "",
    `Goals: ${allGoalsMet ? "all met" : "NOT all met"}.`,
    "",
  ].join("\n");
  return { markdown, allGoalsMet };
}
