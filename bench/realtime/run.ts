/**
 * `npm run bench:realtime [-- --rounds 5 --held-rounds 3 --no-build --skip held,soak …]` (options in
 * parse(); docs/performance.md explains them).
 *
 * Builds the bundle and serves it with raw workerd, next to a bare hibernating Durable Object that
 * only echoes or broadcasts (bare-worker.ts, a second service of the same process), and measures
 * against both: 1:1 message latency and group fan-out to 100, 500 and 1,000 members, and a group
 * of 5,000 with 500 online against the group of 500 (interleaved rounds), then a soak with reconnecting devices that counts every message, then bursts of sends
 * on one socket (burst.ts) and upgrades per second (upgrades.ts), then the sockets one
 * workerd process holds (fills until failure, each on a fresh process; last, because a failed fill
 * ends the process). Prints markdown and writes it to bench/results/realtime-<timestamp>.md.
 */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { inScratch, runMain } from "../entry";
import { machine } from "../machine";
import { stopAll } from "../processes";
import { progress } from "../servers";
import { intOption, RUN_OPTIONS, type RunOptions, runOptions } from "../options";
import { loadNow, writeResults } from "../record";
import { heldRound, latencyRounds, type Phases } from "./phases";
import { report, type HeldRound, type RealtimeSettings } from "./report";
import { burst, type BurstResult } from "./burst";
import { upgradeLines, upgradeRates } from "./upgrades";
import { soak, type SoakOptions, type SoakResult } from "./soak";
import { startRealtimeStack } from "./stack";

const root = new URL("../..", import.meta.url).pathname;

interface Options extends RealtimeSettings, RunOptions {
  stackSparse: { members: number; online: number; offlineFrom: number } | null;
  soak: SoakOptions;
  maxSockets: number;
  skip: Set<string>;
  bundle: string;
}

function parse(): Options {
  const { values: v } = parseArgs({
    options: {
      rounds: { type: "string" },
      "held-rounds": { type: "string" },
      messages: { type: "string" },
      "fan-messages": { type: "string" },
      users: { type: "string" },
      pairs: { type: "string" },
      fanout: { type: "string" },
      sparse: { type: "string" },
      "soak-seconds": { type: "string" },
      "soak-clients": { type: "string" },
      "max-sockets": { type: "string" },
      "held-users": { type: "string" },
      skip: { type: "string" },
      bundle: { type: "string" },
      ...RUN_OPTIONS,
    },
    strict: true,
  });
  const sizes = (v.fanout ?? "100,500,1000").split(",").map((x) => intOption("fanout", x.trim(), 0, 2, 5000));
  const skip = new Set(
    (v.skip ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );
  for (const k of skip)
    if (!["latency", "cold", "sparse", "soak", "held", "burst", "upgrades"].includes(k))
      throw new Error(`--skip takes latency, cold, sparse, soak, held, burst, upgrades; got ${k}`);
  // A group of `members` with `online` of them connected, against the group of `online` (one of the sizes).
  const [members, online] = (v.sparse ?? "5000:500").split(":").map((x) => intOption("sparse", x.trim(), 0, 2, 10_000));
  const sparse =
    skip.has("latency") || skip.has("sparse")
      ? null
      : { members: members!, online: online!, offlineFrom: Math.max(...sizes) };
  if (sparse && !sizes.includes(sparse.online))
    throw new Error(`--sparse ${members}:${online} compares with a group of ${online}: add it to --fanout`);
  const pairs = intOption("pairs", v.pairs, 32, 1, 500);
  const clients = intOption("soak-clients", v["soak-clients"], 30, 2, 1000);
  const heldUsers = intOption("held-users", v["held-users"], 1000, 1, 5000);
  // Enough users for the largest group, the pairs, the soak's devices and the sockets-held fills (of the phases that run).
  const needed = Math.max(
    2 * pairs,
    ...(skip.has("latency") ? [] : sizes),
    skip.has("soak") ? 0 : clients,
    skip.has("held") ? 0 : heldUsers,
    sparse ? sparse.offlineFrom + sparse.members - sparse.online : 0,
  );
  const users = intOption("users", v.users, needed, 2, 10_000);
  if (users < needed)
    throw new Error(
      `--users must be at least ${needed} (the largest group, the pairs, the soak's devices and --held-users)`,
    );
  return {
    rounds: intOption("rounds", v.rounds, 5, 1, 20),
    heldRounds: intOption("held-rounds", v["held-rounds"], 3, 1, 10),
    messages: intOption("messages", v.messages, 1000, 10, 100_000),
    fanMessages: intOption("fan-messages", v["fan-messages"], 50, 5, 10_000),
    users,
    pairs,
    sizes,
    heldUsers,
    sparse: sparse && { members: sparse.members, online: sparse.online },
    stackSparse: sparse,
    cold: !skip.has("cold"),
    soak: {
      clients,
      groups: 3,
      seconds: intOption("soak-seconds", v["soak-seconds"], 60, 5, 3600),
      sendEveryMs: 500,
      dropEveryMs: 4000,
      maxOfflineMs: 1500,
    },
    maxSockets: intOption("max-sockets", v["max-sockets"], 15_000, 10, 100_000),
    skip,
    ...runOptions(v),
    // Another bundle is served as it is, never built.
    build: !v["no-build"] && v.bundle === undefined,
    bundle: resolve(v.bundle ?? join(root, "dist/index.js")),
  };
}

/** What workerd and the libSQL server logged that looks wrong, besides the fills' expected exits. */
function logNotes(workerdLog: string, libsqlLog: string): string[] {
  const counts = new Map<string, number>();
  for (const line of readFileSync(workerdLog, "utf8").split("\n")) {
    if (!/"level":"error"|fanout failed|publish failed|uncaught|exception/i.test(line)) continue;
    // The fills end in fd exhaustion by design (held.ts): workerd's words about it are expected.
    if (/Too many open files|^\*\*\* Uncaught exception \*\*\*$/.test(line)) continue;
    const key = line.replace(/"(requestId|traceId|time|source|userId)":"[^"]*",?/g, "").slice(0, 160);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const notes = [...counts].slice(0, 8).map(([k, n]) => `workerd logged ${n}× ${k}`);
  const server = readFileSync(libsqlLog, "utf8")
    .split("\n")
    .filter((l) => /internal error/i.test(l));
  if (server.length > 0) notes.push(`the libSQL server logged ${server.length} internal errors, first: ${server[0]}`);
  return notes;
}

async function main(): Promise<number> {
  const o = parse();
  const limitMs = (700 + o.rounds * 180 + o.soak.seconds + 120 + o.heldRounds * 4 * 150) * 1000;
  return inScratch(
    root,
    o,
    { name: "realtime-", limitMs, bundle: o.bundle, dropOnInterrupt: true },
    async (scratch) => {
      const stack = await startRealtimeStack(root, scratch, o.bundle, {
        users: o.users,
        pairs: o.pairs,
        groupSizes: o.skip.has("latency") ? [] : o.sizes,
        sparse: o.stackSparse,
      });
      const phases: Phases = { stack, settings: o, maxSockets: o.maxSockets, heldUsers: o.heldUsers };
      const load = loadNow();

      const { rounds: lat, cold } = o.skip.has("latency") ? { rounds: [], cold: [] } : await latencyRounds(phases);
      let soakResult: SoakResult | null = null;
      if (!o.skip.has("soak")) {
        progress(`soak: ${o.soak.clients} devices, ${o.soak.seconds} s`);
        soakResult = await soak(stack, o.soak);
        progress(
          `soak: ${soakResult.messages} messages, ${soakResult.counts.connects} connections, lost ${soakResult.lost}, duplicated ${soakResult.counts.duplicates}`,
        );
      }
      const bursts: BurstResult[] = [];
      if (!o.skip.has("burst"))
        for (const size of [100, 150]) {
          const r = await burst(stack, size, `burst${size}`);
          progress(
            `burst of ${size}: ${r.acked} acked, ${r.refused} refused at first, ${r.closes} closes, ${r.stored} stored`,
          );
          bursts.push(r);
        }
      const upgrades = o.skip.has("upgrades") ? null : await upgradeRates(stack, 500, 4);
      if (upgrades) progress(upgradeLines(upgrades)[0] ?? "");
      const held: HeldRound[] = [];
      if (!o.skip.has("held")) for (let i = 0; i < o.heldRounds; i++) held.push(await heldRound(phases, i));

      const loadAfter = loadNow();
      await stopAll();
      const notes = logNotes(stack.servers.workerdLog, stack.servers.libsqlLog);
      if (o.bundle !== resolve(root, "dist/index.js")) notes.push(`bundle under test: ${o.bundle} (not dist/index.js)`);
      if (o.scratchParent !== resolve(tmpdir()))
        notes.push(`scratch directory (Durable Object storage, databases) under ${o.scratchParent}`);
      const { markdown, allGoalsMet } = report(
        lat,
        cold,
        held,
        soakResult,
        bursts,
        upgrades,
        machine(root, load, loadAfter),
        o,
        notes,
      );
      writeResults(root, "realtime-", markdown);
      return allGoalsMet || !o.strict ? 0 : 3;
    },
  );
}

runMain(main);
