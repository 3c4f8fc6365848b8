/**
 * The faults, one after another while the load runs: kill -9 of workerd, kill -9 of the libSQL
 * server, and the proxy's delay, blackhole and reset between the Worker and the database. Each
 * scenario lets the load run normally first, injects its fault, heals it (restart on the same
 * port and data, or the proxy back to `pass`), and keeps the load running while it recovers.
 * Each leaves a window on the timeline, which the verification uses to judge every answer: a
 * failure is expected only while its fault lasts, and not once the heal's grace is over.
 */
import type { FaultStack } from "./stack";
import { sleep } from "./http";

export type FaultKind = "workerd-kill" | "libsql-kill" | "proxy-delay" | "proxy-drop" | "proxy-reset";

export interface Scenario {
  name: string;
  kind: FaultKind;
  /** What it does, for the report. */
  what: string;
  /** How long the fault lasts before the heal starts (a killed server stays down this long). */
  faultMs: number;
  /** Proxy delay per chunk (proxy-delay). */
  delayMs?: number;
}

export interface Window {
  scenario: string;
  kind: FaultKind;
  faultAt: number;
  /** When the heal was done: the restarted server answered, or the proxy passed again. */
  healedAt: number;
  /** Answers started after this must succeed again (the heal's grace is over). */
  settledBy: number;
  /** workerd was down in [faultAt, healedAt]: requests then may get no answer at all. */
  runtimeDown: boolean;
}

export interface Timing {
  /** Normal load before each fault, and recovery load after each heal. */
  leadMs: number;
  tailMs: number;
  /** After a heal, how long failures may still show (reconnects, caches, pooled connections). */
  graceMs: number;
}

/** The scenarios of a run; `quick` shortens each fault. */
export function scenarios(quick: boolean): Scenario[] {
  const f = quick ? 0.5 : 1;
  return [
    {
      name: "workerd kill -9",
      kind: "workerd-kill",
      faultMs: 1500 * f,
      what: "SIGKILL to workerd's process group under load; started again on the same port and Durable Object directory",
    },
    {
      name: "libSQL kill -9",
      kind: "libsql-kill",
      faultMs: 3000 * f,
      what: "SIGKILL to the libSQL server under load; started again on the same port and data directory",
    },
    {
      name: "proxy delay",
      kind: "proxy-delay",
      faultMs: 8000 * f,
      delayMs: quick ? 300 : 500,
      what: "every chunk between the Worker and the database held (300 ms quick, 500 ms full) each way",
    },
    {
      name: "proxy blackhole",
      kind: "proxy-drop",
      faultMs: 6000 * f,
      what: "connections accepted and never answered, data on open ones swallowed (their requests hang until the Worker's own timeout)",
    },
    {
      name: "proxy reset",
      kind: "proxy-reset",
      faultMs: 6000 * f,
      what: "every connection reset (RST), new ones reset on accept",
    },
  ];
}

async function inject(stack: FaultStack, s: Scenario): Promise<{ faultAt: number; healedAt: number }> {
  const faultAt = Date.now();
  switch (s.kind) {
    case "workerd-kill":
      await stack.workerd.kill9();
      await sleep(s.faultMs);
      await stack.workerd.start();
      break;
    case "libsql-kill":
      await stack.libsql.kill9();
      await sleep(s.faultMs);
      await stack.libsql.start();
      break;
    case "proxy-delay":
      stack.proxy.setMode({ kind: "delay", ms: s.delayMs ?? 500 });
      await sleep(s.faultMs);
      stack.proxy.setMode({ kind: "pass" });
      break;
    case "proxy-drop":
      stack.proxy.setMode({ kind: "drop" });
      await sleep(s.faultMs);
      stack.proxy.setMode({ kind: "pass" });
      break;
    case "proxy-reset":
      stack.proxy.setMode({ kind: "reset" });
      await sleep(s.faultMs);
      stack.proxy.setMode({ kind: "pass" });
      break;
  }
  return { faultAt, healedAt: Date.now() };
}

/** Runs the scenarios in order, the load running throughout; answers their windows. */
export async function runScenarios(
  stack: FaultStack,
  list: Scenario[],
  t: Timing,
  progress: (msg: string) => void,
): Promise<Window[]> {
  const windows: Window[] = [];
  for (const s of list) {
    await sleep(t.leadMs);
    progress(`fault: ${s.name}`);
    const { faultAt, healedAt } = await inject(stack, s);
    progress(`healed after ${((healedAt - faultAt) / 1000).toFixed(1)} s: ${s.name}`);
    windows.push({
      scenario: s.name,
      kind: s.kind,
      faultAt,
      healedAt,
      settledBy: healedAt + t.graceMs,
      runtimeDown: s.kind === "workerd-kill",
    });
    await sleep(t.tailMs);
  }
  return windows;
}
