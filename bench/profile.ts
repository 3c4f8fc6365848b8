/**
 * `npm run bench:profile -- --target chain|authed|tenant-read|login [--seconds 5] [--no-build] [--keep]`
 *
 * Where a hot path's time goes: the bench stack (servers.ts, stack.ts) with workerd's V8 inspector
 * open, one target driven for `--seconds` (autocannon with the bench's connections, or the login
 * loops), a CPU profile taken over exactly that window through the DevTools protocol, saved as
 * `bench/results/profile-<target>-<timestamp>.cpuprofile` (open it in Chrome DevTools or
 * speedscope), and the top functions by self time printed. Findings go to docs/performance.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { drive } from "./auth-flows";
import { inScratch, runMain } from "./entry";
import { throughput } from "./measure";
import { intOption, RUN_OPTIONS, runOptions } from "./options";
import { freePort } from "./processes";
import { progress } from "./servers";
import { startStack } from "./stack";

const root = new URL("..", import.meta.url).pathname;
const TARGETS = ["chain", "authed", "tenant-read", "login"] as const;
type ProfileTarget = (typeof TARGETS)[number];

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A DevTools protocol session over the inspector's WebSocket (Node 22's global WebSocket). */
async function devtools(wsUrl: string) {
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`inspector ${wsUrl} refused`)), { once: true });
  });
  let id = 0;
  const waiting = new Map<number, (v: unknown) => void>();
  ws.addEventListener("message", (e) => {
    const msg = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: unknown };
    if (msg.id !== undefined)
      waiting.get(msg.id)?.(msg.error ? Promise.reject(new Error(JSON.stringify(msg.error))) : msg.result);
  });
  return {
    call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
      const n = ++id;
      ws.send(JSON.stringify({ id: n, method, params }));
      return new Promise<T>((resolve) => waiting.set(n, resolve as (v: unknown) => void));
    },
    close: () => ws.close(),
  };
}

/** The inspector target of the bench's Worker (workerd lists one per service). */
async function workerTarget(inspector: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const list = (await (await fetch(`http://${inspector}/json/list`)).json().catch(() => [])) as {
      webSocketDebuggerUrl?: string;
      title?: string;
      url?: string;
    }[];
    const main = list.find((t) => /main/.test(`${t.title ?? ""} ${t.url ?? ""}`)) ?? list[0];
    if (main?.webSocketDebuggerUrl) return main.webSocketDebuggerUrl;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no inspector target at ${inspector}`);
}

/** A function's name, file and line, as the tables print it. */
function frameName(f: CallFrame): string {
  const file = f.url ? f.url.split("/").pop() : "";
  return `${f.functionName || "(anonymous)"} ${file ? `${file}:${f.lineNumber + 1}` : ""}`.trim();
}

/**
 * Time per function (name, file, line), in ms, largest first: `self` counts the samples taken in
 * the function itself; `total` also those in what it called, synchronously (a continuation after
 * an `await` is sampled under the microtask that resumed it), each sample once per function even
 * when it recurses.
 */
export function profileTimes(p: CpuProfile, kind: "self" | "total"): { fn: string; ms: number; share: number }[] {
  const byNode = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const times = new Map<string, number>();
  let total = 0;
  p.samples.forEach((nodeId, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    const seen = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = kind === "self" ? undefined : parent.get(id)) {
      const key = frameName(byNode.get(id)!.callFrame);
      if (seen.has(key) || key === "(root)") continue;
      seen.add(key);
      times.set(key, (times.get(key) ?? 0) + dt);
    }
  });
  return [...times].map(([fn, ms]) => ({ fn, ms, share: total ? ms / total : 0 })).sort((a, b) => b.ms - a.ms);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      target: { type: "string" },
      seconds: { type: "string" },
      connections: { type: "string" },
      ...RUN_OPTIONS,
    },
    strict: true,
  });
  const target = values.target as ProfileTarget | undefined;
  if (!target || !TARGETS.includes(target)) throw new Error(`--target must be one of ${TARGETS.join(", ")}`);
  const seconds = intOption("seconds", values.seconds, 5, 1, 60);
  const connections = intOption("connections", values.connections, 32, 1, 256);
  const o = runOptions(values);
  const bundle = join(root, "dist/index.js");
  const inspector = `127.0.0.1:${await freePort()}`;
  process.env.CANOPY_BENCH_INSPECTOR = inspector;
  return inScratch(root, o, { name: "profile-", limitMs: 600_000, bundle, dropOnInterrupt: true }, async (scratch) => {
    const stack = await startStack(root, scratch, bundle, connections);
    const session = await devtools(await workerTarget(inspector));
    const load = async () => {
      if (target === "login") return drive(stack.flows.steps.login, { seconds });
      const t = { chain: stack.targets.chain, authed: stack.targets.authed, "tenant-read": stack.targets.tenantRead }[
        target
      ];
      return throughput(t, connections, seconds);
    };
    progress(`warming up ${target}`);
    await (target === "login" ? drive(stack.flows.steps.login, { count: 3 }) : throughput(stack.targets.chain, 4, 1));
    await session.call("Profiler.enable");
    await session.call("Profiler.setSamplingInterval", { interval: 100 });
    await session.call("Profiler.start");
    progress(`profiling ${target} for ${seconds} s`);
    const result = await load();
    const { profile } = await session.call<{ profile: CpuProfile }>("Profiler.stop");
    session.close();
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    mkdirSync(join(root, "bench/results"), { recursive: true });
    const file = join(root, "bench/results", `profile-${target}-${stamp}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    const rows = (kind: "self" | "total") =>
      profileTimes(profile, kind)
        .slice(0, 30)
        .map((t) => `| ${t.ms.toFixed(1)} | ${(t.share * 100).toFixed(1)} % | \`${t.fn}\` |`);
    const lines = [
      `profile of ${target}: ${JSON.stringify(result)}`,
      `saved ${file}`,
      "",
      "| self ms | share | function |",
      "|---|---|---|",
      ...rows("self"),
      "",
      "| total ms | share | function (with what it called) |",
      "|---|---|---|",
      ...rows("total"),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  });
}

runMain(main);
