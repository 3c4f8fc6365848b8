/**
 * Message latency over WebSockets, one message in flight at a time: the sender's frame leaves at
 * t0 (process.hrtime.bigint) and each recipient socket stamps the frame that carries the
 * message's tag on arrival, before anything else is done with it. A message is complete when
 * every recipient has it (and, for Canopy, the sender has its `ack`).
 *
 * Senders take turns and each waits at least MIN_GAP_MS between two frames: Canopy closes a
 * socket that sends more than 20 frames in a second (docs/realtime.md), and the bare targets are
 * paced the same way so both sides see the same traffic shape.
 */
import type WebSocket from "ws";
import { percentile } from "../measure";

/** Gap between two frames of one sender socket (at most ~17 frames/s, under Canopy's 20). */
export const MIN_GAP_MS = 60;
const TIMEOUT_MS = 10_000;

/** Sender sockets' last send time (performance.now()), shared by every scenario. */
const lastSend = new WeakMap<WebSocket, number>();

/** Where frames of the message in flight are reported; set by `sendOne`, read by every socket. */
let inflight: Inflight | null = null;

interface Inflight {
  tag: Buffer;
  t0: bigint;
  recipients: number;
  needAck: boolean;
  seen: Set<number>;
  deliveries: number[];
  ackUs?: number;
  lastUs: number;
  /** An `error` frame about this message (Canopy refused it). */
  error?: string;
  done: () => void;
}

const ACK = Buffer.from('"type":"ack"');
const ERROR = Buffer.from('"type":"error"');

function complete(m: Inflight): boolean {
  return m.seen.size >= m.recipients && (!m.needAck || m.ackUs !== undefined);
}

/**
 * The frame handler of socket `id` (unique across the run): records the in-flight message's ack
 * or delivery. Wire it into every socket a scenario uses.
 */
export function frameHandler(id: number): (data: Buffer, at: bigint) => void {
  return (data, at) => {
    const m = inflight;
    if (!m || !data.includes(m.tag)) return;
    const us = Number(at - m.t0) / 1000;
    if (data.includes(ERROR)) {
      m.error ??= data.toString("utf8").slice(0, 200);
      return m.done();
    }
    if (data.includes(ACK)) m.ackUs ??= us;
    else if (!m.seen.has(id)) {
      m.seen.add(id);
      m.deliveries.push(us);
      m.lastUs = Math.max(m.lastUs, us);
    }
    if (complete(m)) m.done();
  };
}

export interface Scenario {
  name: string;
  /** Sender sockets, used in turn. */
  senders: WebSocket[];
  /** The frame that sender `k` sends for a message tagged `tag`. */
  frame(k: number, tag: string): string;
  /** Sockets that receive each message. */
  recipients: number;
  /** Canopy: the sender waits for its `ack` too. */
  needAck: boolean;
}

export interface Samples {
  /** Per delivery (µs from send to arrival at one recipient). */
  delivery: number[];
  /** Per message: send to the last recipient (µs). */
  last: number[];
  /** Per message: send to ack (µs), Canopy only. */
  ack: number[];
  /** Messages not complete within the timeout, and the deliveries they missed. */
  timeouts: number;
  missing: number;
  /** Messages refused with an `error` frame, and the first such frame. */
  errors: number;
  firstError?: string;
}

export const emptySamples = (): Samples => ({ delivery: [], last: [], ack: [], timeouts: 0, missing: 0, errors: 0 });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let tags = 0;

/** Sends one message from sender `k` and waits until it is complete or times out. */
async function sendOne(s: Scenario, k: number, out: Samples): Promise<void> {
  const ws = s.senders[k]!;
  const wait = (lastSend.get(ws) ?? -Infinity) + MIN_GAP_MS - performance.now();
  if (wait > 0) await sleep(wait);
  const tag = `t${++tags}z${Math.random().toString(36).slice(2, 8)}`;
  const frame = s.frame(k, tag);
  const m: Inflight = {
    tag: Buffer.from(tag),
    t0: 0n,
    recipients: s.recipients,
    needAck: s.needAck,
    seen: new Set(),
    deliveries: [],
    lastUs: 0,
    done: () => undefined,
  };
  const finished = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), TIMEOUT_MS);
    m.done = () => {
      clearTimeout(timer);
      resolve(true);
    };
  });
  inflight = m;
  lastSend.set(ws, performance.now());
  m.t0 = process.hrtime.bigint();
  ws.send(frame);
  const ok = await finished;
  inflight = null;
  out.delivery.push(...m.deliveries);
  if (m.error !== undefined) {
    out.errors++;
    out.firstError ??= m.error;
  } else if (ok) {
    out.last.push(m.lastUs);
    if (m.ackUs !== undefined) out.ack.push(m.ackUs);
  } else {
    out.timeouts++;
    out.missing += s.recipients - m.seen.size;
  }
}

/** Runs `n` messages of a scenario, senders in turn starting at `offset`. */
export async function run(s: Scenario, n: number, out: Samples, offset = 0): Promise<void> {
  for (let i = 0; i < n; i++) await sendOne(s, (offset + i) % s.senders.length, out);
}

/**
 * Several scenarios interleaved: `chunk` messages of each in turn, in A B C, C B A … order
 * (ABBA), until each has sent `n`; `between` runs (unmeasured) before every chunk. Returns one
 * Samples per scenario.
 */
export async function interleaved(
  scenarios: Scenario[],
  n: number,
  chunk: number,
  between?: () => Promise<void>,
): Promise<Samples[]> {
  const out = scenarios.map(emptySamples);
  for (let done = 0, cycle = 0; done < n; done += chunk, cycle++) {
    const order = scenarios.map((_, i) => i);
    if (cycle % 2 === 1) order.reverse();
    for (const i of order) {
      await between?.();
      await run(scenarios[i]!, Math.min(chunk, n - done), out[i]!, done);
    }
  }
  return out;
}

export interface Quantiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
}

export function quantiles(values: number[]): Quantiles {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
}

/** A bare target's payload: the tag, padded to about the size of Canopy's `message` frame. */
export function barePayload(tag: string, bytes = 240): string {
  const head = `{"type":"send","clientId":"${tag}","body":{"text":"${tag}"},"pad":"`;
  return `${head}${"x".repeat(Math.max(0, bytes - head.length - 2))}"}`;
}
