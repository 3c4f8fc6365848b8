/**
 * The measured phases of the realtime benchmark: the latency rounds (1:1 and fan-out, Canopy and
 * bare interleaved) and one round of the sockets-held test (a fill against each target, in
 * alternating order, each on a freshly started workerd).
 */
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { progress } from "../servers";
import { fill, TABS_PER_USER, warmPath, type HeldResult, type HeldTarget } from "./held";
import { interleaved, run, emptySamples, type Scenario } from "./latency";
import {
  summarize,
  type ColdSample,
  type HeldRound,
  type LatencyRound,
  type RealtimeSettings,
  type Summary,
} from "./report";
import { closeScenarios, openScenarios } from "./scenarios";
import { userHeaders, type RealtimeStack } from "./stack";
import { closeAll, connect } from "./ws-client";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Phases {
  stack: RealtimeStack;
  settings: RealtimeSettings;
  maxSockets: number;
  /** Users over which Canopy's sockets are spread in the sockets-held test. */
  heldUsers: number;
}

const ms = (us: number): string => `${(us / 1000).toFixed(2)} ms`;

/**
 * Idle time before a cold sample. workerd hibernates an object that holds only hibernatable
 * sockets after about 10 s without events, and the next delivery pays for waking it (measured
 * here: a message to 1,000 members whose hubs were idle 5 s took the usual ~0.2 s; idle 12 s,
 * 1.6 s; idle 25 s, 2.7 s, nearly all of it workerd CPU).
 * Evicting hundreds of idle hubs at once also takes workerd's one thread for a while, so the
 * rounds keep every hub warm (KEEP_WARM_MS) and the cold samples run in a phase of their own.
 */
const COLD_IDLE_MS = 20_000;
const COLD_SAMPLES = 3;
const KEEP_WARM_MS = 4_000;

/** Unmeasured messages through each scenario (wakes what is about to be used): one, or one per sender. */
async function touch(scenarios: Scenario[], perSender = false): Promise<void> {
  for (const sc of scenarios) await run(sc, perSender ? sc.senders.length : 1, emptySamples());
}

/**
 * The cold samples: COLD_SAMPLES times, after COLD_IDLE_MS without traffic, one message to the
 * largest group, one to the bare room of the same size and one through the bare hubs (log → N − 1
 * hub objects, all hibernated too), in rotating order: send to the last recipient (µs).
 */
async function coldSamples(fan: { canopy: Scenario; bare: Scenario; arch: Scenario }): Promise<ColdSample[]> {
  progress(
    `cold samples: ${COLD_SAMPLES} × (${COLD_IDLE_MS / 1000} s idle, then one message to the largest group, its bare room and its bare hubs)`,
  );
  const out: ColdSample[] = [];
  const keys = ["canopy", "bare", "arch"] as const;
  for (let i = 0; i < COLD_SAMPLES; i++) {
    await sleep(COLD_IDLE_MS);
    const s = { canopy: emptySamples(), bare: emptySamples(), arch: emptySamples() };
    for (let j = 0; j < keys.length; j++) {
      const k = keys[(i + j) % keys.length]!;
      await run(fan[k], 1, s[k]);
    }
    const last = (k: (typeof keys)[number]) => s[k].last[0] ?? Number.NaN;
    out.push({ canopy: last("canopy"), bare: last("bare"), arch: last("arch") });
    progress(
      `cold sample ${i + 1}/${COLD_SAMPLES}: ${ms(out[i]!.canopy)} vs bare room ${ms(out[i]!.bare)}, bare hubs ${ms(out[i]!.arch)}`,
    );
  }
  return out;
}

/**
 * Opens the sockets, warms every scenario up, runs the rounds, then (unless skipped) the cold
 * samples; closes the sockets. Each
 * round starts with one unmeasured message per 1:1 sender and per fan-out target, and before
 * every chunk the largest group and its bare room get an unmeasured message if KEEP_WARM_MS
 * passed since the last one, so every hub and room is measured warm, as steady traffic sees it.
 */
export async function latencyRounds(p: Phases): Promise<{ rounds: LatencyRound[]; cold: ColdSample[] }> {
  const s = p.settings;
  progress(`opening ${Math.max(...s.sizes, 2 * p.stack.pairs.length)} Canopy sockets and the bare targets' sockets`);
  const set = await openScenarios(p.stack, s.sizes);
  try {
    progress("warming up");
    const o = set.oneToOne;
    for (const sc of [o.canopy, o.echo, o.relay, o.stored, o.arch]) await run(sc, 100, emptySamples());
    for (const f of set.fanOut.values()) for (const sc of [f.canopy, f.bare, f.arch]) await run(sc, 10, emptySamples());
    if (set.sparse) await run(set.sparse.canopy, 10, emptySamples());
    const largest = set.fanOut.get(Math.max(...s.sizes))!;
    let warmAt = performance.now();
    const keepWarm = async (): Promise<void> => {
      if (performance.now() - warmAt < KEEP_WARM_MS) return;
      await touch([largest.canopy, largest.bare, largest.arch]);
      warmAt = performance.now();
    };
    const rounds: LatencyRound[] = [];
    for (let i = 0; i < s.rounds; i++) {
      // Every other round starts with the other target.
      const flip = <T>(xs: T[]): T[] => (i % 2 === 1 ? [...xs].reverse() : xs);
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      await touch([o.canopy, o.echo, o.relay, o.stored, o.arch], true);
      const oneOrder = flip([o.canopy, o.echo, o.relay, o.stored, o.arch]);
      const one = await interleaved(oneOrder, s.messages, 100, keepWarm);
      const pick = (name: string): Summary => summarize(one[oneOrder.findIndex((x) => x.name === name)]!);
      const fanOut = new Map<number, { canopy: Summary; bare: Summary; arch: Summary }>();
      for (const n of s.sizes) {
        const f = set.fanOut.get(n)!;
        await touch([f.canopy, f.bare, f.arch]);
        const order = flip([f.canopy, f.bare, f.arch]);
        const r = await interleaved(order, s.fanMessages, 10, keepWarm);
        const get = (name: string): Summary => summarize(r[order.findIndex((x) => x.name === name)]!);
        fanOut.set(n, { canopy: get(f.canopy.name), bare: get(f.bare.name), arch: get(f.arch.name) });
      }
      let sparse: LatencyRound["sparse"];
      if (set.sparse) {
        const { canopy, dense } = set.sparse;
        await touch([canopy, dense]);
        const order = flip([canopy, dense]);
        const r = await interleaved(order, s.fanMessages, 10, keepWarm);
        const get = (name: string): Summary => summarize(r[order.findIndex((x) => x.name === name)]!);
        sparse = { canopy: get(canopy.name), dense: get(dense.name) };
      }
      loop.disable();
      const round: LatencyRound = {
        ...(sparse ? { sparse } : {}),
        oneToOne: {
          canopy: pick(o.canopy.name),
          echo: pick(o.echo.name),
          relay: pick(o.relay.name),
          stored: pick(o.stored.name),
          arch: pick(o.arch.name),
        },
        fanOut,
        clientMaxDelayMs: loop.max / 1e6,
      };
      rounds.push(round);
      const fans = [...fanOut].map(
        ([n, f]) => `fan-out ${n} p99 ${ms(f.canopy.delivery.p99)} vs ${ms(f.bare.delivery.p99)}`,
      );
      if (sparse) fans.push(`sparse last p50 ${ms(sparse.canopy.last.p50)} vs ${ms(sparse.dense.last.p50)}`);
      const c = round.oneToOne;
      progress(
        `round ${i + 1}/${s.rounds} (client loop stalled at most ${Math.round(round.clientMaxDelayMs)} ms): 1:1 p50 ${ms(c.canopy.delivery.p50)} vs floor ${ms(c.arch.delivery.p50)}, p99 ${ms(c.canopy.delivery.p99)} vs ${ms(c.arch.delivery.p99)}; ${fans.join("; ")}`,
      );
    }
    return { rounds, cold: s.cold ? await coldSamples(largest) : [] };
  } finally {
    await closeScenarios(set);
  }
}

/** workerd's last words in its log (the line of an uncaught exception), once it has exited. */
function exitReason(log: string): string {
  const lines = readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("{") && !/^\*\*\*/.test(l));
  // e.g. "workerd/server/server/entry.rs:143: overloaded: accept(): Too many open files (os error 24)"
  return lines[lines.length - 1]?.replace(/^\S+:\d+: /, "").slice(0, 120) ?? "no message";
}

/** One fill: a fresh workerd, the path warmed with 50 sockets, then open until failure. */
async function fillOne(p: Phases, t: HeldTarget): Promise<HeldResult> {
  const servers = p.stack.servers;
  await servers.restartWorkerd();
  await warmPath(t, 50);
  const w = servers.workerd();
  const pid = w.child.pid;
  if (pid === undefined) throw new Error("workerd has no pid");
  const { result, sockets } = await fill(t, pid, {
    max: p.maxSockets,
    concurrency: 32,
    sampleEvery: 250,
    alive: () => w.child.exitCode === null && w.child.signalCode === null,
    exitReason: () => exitReason(servers.workerdLog),
  });
  // A fresh process for whatever comes next; the client ends are closed by then.
  await servers.restartWorkerd();
  await closeAll(sockets);
  progress(
    `${t.name}: ${result.held} sockets held (${result.stop}), ${result.perSocketKb.toFixed(1)} KiB and ${result.fdsPerSocket.toFixed(2)} fds per socket`,
  );
  return result;
}

/**
 * One round of the sockets-held test, four fills, each on a fresh workerd:
 * - Canopy, each user's TABS_PER_USER sockets opened together, user after user (the issue's
 *   figure): users connect, then sit idle, so a hub whose sockets are all open hibernates about
 *   10 s later and its SQLite files close, as idle connections' hubs do in any deployment;
 * - Canopy, sockets spread over the users in turn (socket k to user k mod N): every hub gets an
 *   upgrade every few seconds and none hibernates, so each keeps its SQLite files open;
 * - the bare object of the issue's goal (one room holding every socket);
 * - bare rooms as many as Canopy's users, filled in turn like the spread fill (the same number
 *   of awake Durable Objects, each with its SQLite files open).
 * The order alternates: A B C D, then D C B A.
 */
export async function heldRound(p: Phases, i: number): Promise<HeldRound> {
  const users = p.stack.users.slice(0, p.heldUsers);
  const canopy = (name: string, user: (k: number) => number): HeldTarget => ({
    name: `canopy (${users.length} users, ${name})`,
    ping: '{"type":"ping"}',
    open: (k, timeoutMs, onFrame) =>
      connect(p.stack.canopyUrl, { headers: userHeaders(users[user(k) % users.length]!), timeoutMs, onFrame }),
  });
  const bare = (rooms: number): HeldTarget => ({
    name: `bare (${rooms} room${rooms === 1 ? "" : "s"})`,
    ping: "ping",
    open: (k, timeoutMs, onFrame) =>
      connect(`${p.stack.bareUrl}/echo/held-${rooms}-${k % rooms}`, { timeoutMs, onFrame }),
  });
  progress(`sockets held, round ${i + 1}/${p.settings.heldRounds}`);
  const tabs = canopy(`${TABS_PER_USER} at a time`, (k) => Math.floor(k / TABS_PER_USER));
  const inTurn = canopy("in turn", (k) => k);
  const one = bare(1);
  const spread = bare(users.length);
  const order = [tabs, one, inTurn, spread];
  if (i % 2 === 1) order.reverse();
  const out = new Map<HeldTarget, HeldResult>();
  for (const t of order) out.set(t, await fillOne(p, t));
  return { canopy: out.get(tabs)!, canopySpread: out.get(inTurn)!, bare: out.get(one)!, bareSpread: out.get(spread)! };
}
