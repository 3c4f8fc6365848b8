/**
 * Sockets held by one workerd process: open WebSockets against one target, `concurrency` at a
 * time, until one fails twice (1 s apart) or `max` are open. Out of file descriptors (it holds two per
 * WebSocket, and the open-file limit is 20,000 here) workerd does not refuse connections: it
 * exits on an uncaught `accept(): Too many open files`. So resident memory and open files are
 * sampled while the fill runs, every `sampleEvery` sockets, and memory per connection is the
 * growth up to the last sample taken before the failure, over the sockets open at that sample.
 * Each fill runs on a freshly started workerd (see run.ts): the limit is per process, a failed
 * fill leaves no process behind, and memory freed by closed sockets is not given back.
 */
import { readdirSync, readFileSync } from "node:fs";
import type WebSocket from "ws";
import { closeAll } from "./ws-client";

/** Sockets each Canopy user opens together in the "connect, then idle" fill (tabs of one device). */
export const TABS_PER_USER = 10;

export interface HeldTarget {
  name: string;
  /** Opens socket number i (`onFrame` is wired to its liveness check). */
  open(i: number, timeoutMs: number, onFrame: (data: Buffer) => void): Promise<WebSocket>;
  /** A frame the target answers (Canopy's ping auto-response; the bare room's echo). */
  ping: string;
}

export interface HeldResult {
  /** Sockets open when the fill stopped (when workerd failed, those it held until then). */
  held: number;
  /** When workerd survived the fill: sockets that answered a ping afterwards; else 0. */
  alive: number;
  /** Why the fill stopped: the first failure that repeated on a retry, workerd's exit, or the cap. */
  stop: string;
  /** workerd exited during the fill. */
  crashed: boolean;
  /** workerd's resident memory (KiB) before the fill (after warming the path), at the last sample. */
  rssBeforeKb: number;
  rssLastKb: number;
  /** Sockets open at the last sample. */
  sampled: number;
  /** (last − before) / sampled, KiB. */
  perSocketKb: number;
  /** workerd's open files per socket (fd growth over sockets, at the last sample), and its limit. */
  fdsPerSocket: number;
  fdLimit: number;
  /** Sockets opened per second during the fill. */
  rate: number;
  /** Sockets that failed to open once (e.g. a stalled upgrade) and opened on the retry. */
  retried: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resident memory (KiB) and open files of a process, or null once it is gone. */
export function usage(pid: number): { rssKb: number; fds: number } | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return { rssKb: Number(m?.[1] ?? Number.NaN), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

function fdLimit(pid: number): number {
  return Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1] ?? Number.NaN);
}

/** Sends `ping` on every socket and counts those that answer within `timeoutMs`. */
async function liveness(sockets: WebSocket[], answered: Set<number>, ping: string, timeoutMs: number): Promise<number> {
  answered.clear();
  for (const ws of sockets) {
    try {
      ws.send(ping);
    } catch {
      // closed
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (answered.size < sockets.length && Date.now() < deadline) await sleep(50);
  return answered.size;
}

/** Opens and closes `n` sockets so the fill starts with code, isolate and objects loaded. */
export async function warmPath(t: HeldTarget, n: number): Promise<void> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < n; i++) sockets.push(await t.open(i, 10_000, () => undefined));
  await closeAll(sockets);
}

export interface FillOptions {
  max: number;
  concurrency: number;
  sampleEvery: number;
  /** Whether workerd is still running (the process handle knows first). */
  alive: () => boolean;
  /** Why workerd exited (its log's last words), once it has. */
  exitReason: () => string;
}

export async function fill(
  t: HeldTarget,
  pid: number,
  o: FillOptions,
): Promise<{ result: HeldResult; sockets: WebSocket[] }> {
  const before = usage(pid);
  if (!before) throw new Error("workerd is not running");
  const limit = fdLimit(pid);
  let last = { ...before, sockets: 0 };
  const sockets: WebSocket[] = [];
  const answered = new Set<number>();
  let next = 0;
  let retried = 0;
  let stop: string | undefined;
  const t0 = Date.now();
  const worker = async (): Promise<void> => {
    while (stop === undefined) {
      const i = next++;
      if (i >= o.max) {
        stop ??= `reached the cap of ${o.max}`;
        return;
      }
      // The index in `sockets` is only known once open; the frame handler looks it up then.
      let k = -1;
      const open = () =>
        t.open(i, 5_000, () => {
          if (k >= 0) answered.add(k);
        });
      let ws: WebSocket;
      try {
        ws = await open();
      } catch (first) {
        // Not yet the limit if workerd still runs and the same socket opens a second later (a
        // stalled upgrade times out too): only a failure that repeats ends the fill.
        try {
          if (!o.alive()) throw first;
          await sleep(1000);
          ws = await open();
          retried++;
        } catch (err) {
          stop ??= `socket ${i + 1}: ${err instanceof Error ? err.message : String(err)}`;
          continue;
        }
      }
      k = sockets.push(ws) - 1;
      if (sockets.length % o.sampleEvery === 0) {
        const u = usage(pid);
        if (u && o.alive()) last = { ...u, sockets: sockets.length };
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (Date.now() - t0) / 1000;
  // workerd may still be on its way out (closing thousands of sockets takes a while): a sample
  // of a dying process would be wrong, so give it a few seconds to exit first.
  for (let waited = 0; waited < 5000 && o.alive(); waited += 250) await sleep(250);
  const crashed = !o.alive();
  if (!crashed) {
    const u = usage(pid);
    if (u) last = { ...u, sockets: sockets.length };
  }
  const alive = crashed ? 0 : await liveness(sockets, answered, t.ping, 15_000);
  return {
    result: {
      held: sockets.length,
      alive,
      stop: crashed ? `workerd exited: ${o.exitReason()}` : (stop ?? "unknown"),
      crashed,
      rssBeforeKb: before.rssKb,
      rssLastKb: last.rssKb,
      sampled: last.sockets,
      perSocketKb: (last.rssKb - before.rssKb) / Math.max(1, last.sockets),
      fdsPerSocket: (last.fds - before.fds) / Math.max(1, last.sockets),
      fdLimit: limit,
      rate: sockets.length / seconds,
      retried,
    },
    sockets,
  };
}
