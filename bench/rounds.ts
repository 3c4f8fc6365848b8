/**
 * One round of the benchmark: latency of the HTTP targets (interleaved in chunks), their
 * throughput (interleaved 1 s slices), then the sign-in flows (login and refresh, unloaded and
 * loaded) and the PBKDF2 reference. Every other round runs the targets in reverse order.
 */
import { drive, pbkdf2Reference, type FlowKey, type FlowResult } from "./auth-flows";
import {
  latency,
  throughput,
  throughputInterleaved,
  warmUp,
  type LatencyResult,
  type ThroughputResult,
} from "./measure";
import type { LatencyKey, RoundResult, Settings, TargetKey } from "./report";
import type { AuthRound } from "./report-auth";
import type { Floors, Stack } from "./stack";

const LATENCY: LatencyKey[] = [
  "bare",
  "chain",
  "authed",
  "tenantRead",
  "rpcFloor",
  "hranaFloor",
  "floor",
  "libsqlServer",
];
const THROUGHPUT: TargetKey[] = ["bare", "chain", "authed", "authedOneUser", "tenantRead", "floor", "libsqlServer"];
/** Sequential requests per round for the unloaded sign-in figures. */
const SEQUENTIAL: Record<FlowKey, number> = { login: 20, refresh: 200 };

/** Generous upper bound of one round's duration (s), for the run's watchdog. */
export function roundBudgetSeconds(s: Settings): number {
  return THROUGHPUT.length * (s.seconds + 5 + s.requests * 0.01) + 3 * (s.seconds + 15) + 40;
}

/** Warms every target and flow up: JIT, caches, connections, each user's hub and token cache. */
export async function warm(stack: Stack, s: Settings): Promise<void> {
  for (const k of THROUGHPUT) {
    await warmUp(stack.targets[k], 500);
    await throughput(stack.targets[k], s.connections, 1);
  }
  const f = floorsOf(stack);
  await warmUp(f.rpc, 500);
  await warmUp(f.hrana, 500);
  await drive(f.pbkdf2, { count: 2 });
  const { login, refresh } = stack.flows.steps;
  for (const [name, steps, count] of [
    ["login", login, 2],
    ["refresh", refresh, 10],
  ] as const) {
    const r = await drive(steps, { count });
    if (r.n !== steps.length * count) throw new Error(`warming up ${name} failed: ${JSON.stringify(r.failures)}`);
  }
}

/** The floors of the bench bundle; the main benchmark cannot run without them. */
function floorsOf(stack: Stack): Floors {
  if (!stack.floors) throw new Error("the bundle under test has no floors: build it from bench/floors/entry.mts");
  return stack.floors;
}

export async function round(stack: Stack, i: number, s: Settings): Promise<RoundResult> {
  const floors = floorsOf(stack);
  const t = { ...stack.targets, rpcFloor: floors.rpc, hranaFloor: floors.hrana };
  const reverse = i % 2 === 1;
  const ordered = <T>(xs: T[]): T[] => (reverse ? [...xs].reverse() : xs);

  const latency_ = {} as Record<LatencyKey, LatencyResult>;
  const lOrder = ordered(LATENCY);
  const latencies = await latency(
    lOrder.map((k) => t[k]),
    s.requests,
  );
  lOrder.forEach((k, j) => (latency_[k] = latencies[j]!));

  const throughput_ = {} as Record<TargetKey, ThroughputResult>;
  const tOrder = ordered(THROUGHPUT);
  const throughputs = await throughputInterleaved(
    tOrder.map((k) => t[k]),
    s.connections,
    s.seconds,
  );
  tOrder.forEach((k, j) => (throughput_[k] = throughputs[j]!));

  const steps = stack.flows.steps;
  const seq = {} as Record<FlowKey, FlowResult>;
  const load = {} as Record<FlowKey, FlowResult>;
  for (const f of ordered<FlowKey>(["login", "refresh"]))
    seq[f] = await drive(steps[f].slice(0, 1), { count: SEQUENTIAL[f] });
  // The login flow's bound, the PBKDF2 floor, right before or after it (ABBA, like every target).
  let pbkdf2Load: FlowResult | undefined;
  for (const f of ordered<FlowKey | "pbkdf2">(["pbkdf2", "login", "refresh"])) {
    if (f === "pbkdf2") pbkdf2Load = await drive(floors.pbkdf2, { seconds: s.seconds });
    else load[f] = await drive(steps[f], { seconds: s.seconds });
  }
  const auth: AuthRound = {
    loginSeq: seq.login,
    refreshSeq: seq.refresh,
    loginLoad: load.login,
    refreshLoad: load.refresh,
    loops: { login: steps.login.length, refresh: steps.refresh.length },
    pbkdf2: pbkdf2Reference(),
    pbkdf2Load: pbkdf2Load!,
  };
  return { latency: latency_, throughput: throughput_, auth };
}

/** One progress line per round. */
export function summary(r: RoundResult): string {
  const us = (v: number) => `${Math.round(v)} µs`;
  const http = LATENCY.map((k) => {
    const t = r.throughput[k as TargetKey] as ThroughputResult | undefined;
    return `${k} p50 ${us(r.latency[k].p50)}${t ? `, ${Math.round(t.rps)} req/s` : ""}`;
  });
  const a = r.auth;
  return [
    ...http,
    `authedOneUser ${Math.round(r.throughput.authedOneUser.rps)} req/s`,
    `login ${a.loginLoad.rps.toFixed(1)}/s (p50 ${us(a.loginSeq.p50)} unloaded), PBKDF2 floor ${a.pbkdf2Load.rps.toFixed(1)}/s`,
    `refresh ${a.refreshLoad.rps.toFixed(0)}/s (p50 ${us(a.refreshSeq.p50)} unloaded)`,
  ].join("; ");
}
