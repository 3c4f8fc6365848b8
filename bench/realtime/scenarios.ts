/**
 * The sockets of the latency and fan-out measurements and the scenarios built on them:
 * - Canopy: one socket per user (`GET /v1/realtime`, bearer token), users 0 … largest group − 1;
 *   1:1 = `send` in the direct conversation of friend pair k (users 2k, 2k+1), received by the
 *   peer; fan-out = `send` in a group of N, received by the N − 1 other members (the sender's
 *   socket gets the `ack`); sparse = `send` in a large group of whom only users 0 … online − 1
 *   have sockets, against the all-online group of that many;
 * - bare: echo = one socket per room, the frame comes back; stored echo = the same after one
 *   SQLite insert (the durability floor); hub → log → hub = bare-worker.ts's floor of Canopy's
 *   architecture (pairs, and rooms of N for fan-out); relay = rooms of two broadcast
 *   sockets, the other one receives it; fan-out = a broadcast room of N sockets, N − 1 receive it.
 * Senders take turns (at most FAN_SENDERS of them per group), each paced (latency.ts).
 */
import type WebSocket from "ws";
import { barePayload, frameHandler, type Scenario } from "./latency";
import { userHeaders, type RealtimeStack } from "./stack";
import { closeAll, connect } from "./ws-client";

/** Senders per fan-out group, taking turns. */
const FAN_SENDERS = 10;

export interface ScenarioSet {
  oneToOne: { canopy: Scenario; echo: Scenario; relay: Scenario; stored: Scenario; arch: Scenario };
  fanOut: Map<number, { canopy: Scenario; bare: Scenario; arch: Scenario }>;
  /** The large group with few online, and the all-online group of as many members (from fanOut). */
  sparse: { canopy: Scenario; dense: Scenario } | null;
  /** Every socket opened, to close at the end. */
  sockets: WebSocket[];
}

let ids = 0;

/** Opens `n` sockets through `open`, `concurrency` at a time, in index order. */
async function openMany(
  n: number,
  open: (i: number, onFrame: (d: Buffer, at: bigint) => void) => Promise<WebSocket>,
  concurrency = 32,
): Promise<WebSocket[]> {
  const out: WebSocket[] = new Array<WebSocket>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) out[i] = await open(i, frameHandler(++ids));
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

const sendFrame = (conversationId: string, tag: string): string =>
  JSON.stringify({ type: "send", clientId: tag, conversationId, body: { text: tag } });

export async function openScenarios(stack: RealtimeStack, sizes: number[]): Promise<ScenarioSet> {
  const canopyUsers = Math.max(...sizes, 2 * stack.pairs.length);
  const canopy = await openMany(canopyUsers, (i, onFrame) =>
    connect(stack.canopyUrl, { headers: userHeaders(stack.users[i]!), onFrame }),
  );
  const bare = (path: string) => (_: number, onFrame: (d: Buffer, at: bigint) => void) =>
    connect(`${stack.bareUrl}${path}`, { onFrame });
  const echo = await openMany(stack.pairs.length, (i, onFrame) => bare(`/echo/echo-${i}`)(i, onFrame));
  const relay = await openMany(2 * stack.pairs.length, (i, onFrame) => bare(`/broadcast/relay-${i >> 1}`)(i, onFrame));
  const stored = await openMany(stack.pairs.length, (i, onFrame) => bare(`/stored/stored-${i}`)(i, onFrame));
  // The architecture's floor: pair k's users are BareHub objects p<k>-0 and p<k>-1 sharing BareLog pair-<k>.
  const arch = await openMany(2 * stack.pairs.length, (i, onFrame) =>
    bare(`/arch/pair-${i >> 1}/p${i >> 1}-${i & 1}`)(i, onFrame),
  );
  const sockets = [...canopy, ...echo, ...relay, ...stored, ...arch];

  const pairs = stack.pairs;
  const oneToOne = {
    canopy: {
      name: "canopy 1:1",
      senders: pairs.map((_, k) => canopy[2 * k]!),
      frame: (k: number, tag: string) => sendFrame(pairs[k]!.conversationId, tag),
      recipients: 1,
      needAck: true,
    },
    echo: {
      name: "bare echo",
      senders: echo,
      frame: (_: number, tag: string) => barePayload(tag),
      recipients: 1,
      needAck: false,
    },
    arch: {
      name: "bare hub → log → hub",
      senders: pairs.map((_, k) => arch[2 * k]!),
      frame: (_: number, tag: string) => barePayload(tag),
      recipients: 1,
      needAck: false,
    },
    stored: {
      name: "bare stored echo",
      senders: stored,
      frame: (_: number, tag: string) => barePayload(tag),
      recipients: 1,
      needAck: false,
    },
    relay: {
      name: "bare relay",
      senders: pairs.map((_, k) => relay[2 * k]!),
      frame: (_: number, tag: string) => barePayload(tag),
      recipients: 1,
      needAck: false,
    },
  };

  const fanOut = new Map<number, { canopy: Scenario; bare: Scenario; arch: Scenario }>();
  for (const n of sizes) {
    const group = stack.groups.get(n);
    if (!group) throw new Error(`no group of ${n}`);
    // Group members are users 0 … n − 1, whose sockets are canopy[0 … n − 1].
    const room = await openMany(n, (i, onFrame) => bare(`/broadcast/fan-${n}`)(i, onFrame));
    const archRoom = await openMany(n, (i, onFrame) => bare(`/arch/fan-${n}/f${n}-${i}`)(i, onFrame));
    sockets.push(...room, ...archRoom);
    const k = Math.min(FAN_SENDERS, n);
    fanOut.set(n, {
      canopy: {
        name: `canopy group of ${n}`,
        senders: canopy.slice(0, k),
        frame: (_, tag) => sendFrame(group.id, tag),
        recipients: n - 1,
        needAck: true,
      },
      bare: {
        name: `bare broadcast to ${n}`,
        senders: room.slice(0, k),
        frame: (_, tag) => barePayload(tag),
        recipients: n - 1,
        needAck: false,
      },
      arch: {
        name: `bare hubs fan-out to ${n}`,
        senders: archRoom.slice(0, k),
        frame: (_, tag) => barePayload(tag),
        recipients: n - 1,
        needAck: false,
      },
    });
  }
  let sparse: ScenarioSet["sparse"] = null;
  const sp = stack.sparse;
  if (sp) {
    const dense = fanOut.get(sp.online)?.canopy;
    if (!dense)
      throw new Error(`the sparse group's ${sp.online} online members need a group of ${sp.online} to compare with`);
    // Its online members are users 0 … online − 1, whose sockets are open already.
    sparse = {
      canopy: {
        name: `canopy group of ${sp.members.length}, ${sp.online} online`,
        senders: canopy.slice(0, Math.min(FAN_SENDERS, sp.online)),
        frame: (_, tag) => sendFrame(sp.id, tag),
        recipients: sp.online - 1,
        needAck: true,
      },
      dense,
    };
  }
  return { oneToOne, fanOut, sparse, sockets };
}

export async function closeScenarios(set: ScenarioSet): Promise<void> {
  await closeAll(set.sockets);
}
