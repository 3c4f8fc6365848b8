/**
 * The burst goal: a client replaying its offline queue sends `size` sends at once on a fresh
 * socket (the tenant's defaults: 20 frames a second, bursts of 100). Counted: acks, `rate_limited`
 * refusals (each must name its clientId), closes (the goal is none); refused sends are sent again
 * after their `retryAfterMs` until every one is acked, and the acks must carry `size` distinct seqs.
 */
import type WebSocket from "ws";
import { type RealtimeStack, userHeaders } from "./stack";
import { closeSocket, connect } from "./ws-client";

export interface BurstResult {
  size: number;
  acked: number;
  refused: number;
  refusedWithoutClientId: number;
  closes: number;
  retryRounds: number;
  /** Distinct seqs among the acks: `size` when every send was stored once. */
  stored: number;
  ms: number;
}

interface Answer {
  type: string;
  code?: string;
  clientId?: string;
  seq?: number;
  retryAfterMs?: number;
}

export async function burst(stack: RealtimeStack, size: number, run: string): Promise<BurstResult> {
  const pair = stack.pairs[0];
  if (!pair) throw new Error("the burst needs a pair");
  const answers: Answer[] = [];
  let closes = 0;
  const ws: WebSocket = await connect(stack.canopyUrl, {
    headers: userHeaders(pair.a),
    onFrame: (data) => {
      const f = JSON.parse(data.toString("utf8")) as Answer;
      if (f.type === "ack" || (f.type === "error" && f.code === "rate_limited")) answers.push(f);
    },
    onClose: () => closes++,
  });
  const started = Date.now();
  const frame = (i: number) =>
    JSON.stringify({
      type: "send",
      clientId: `${run}-${i}`,
      conversationId: pair.conversationId,
      body: { text: `b${i}` },
    });
  const waitFor = async (n: number) => {
    const end = Date.now() + 30_000;
    while (answers.length < n && closes === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  };
  for (let i = 0; i < size; i++) ws.send(frame(i));
  await waitFor(size);
  const refusedFirst = answers.filter((a) => a.type === "error");
  let pending = refusedFirst;
  let rounds = 0;
  while (pending.length && closes === 0 && rounds < 50) {
    rounds++;
    const before = answers.length;
    for (const r of pending) {
      await new Promise((res) => setTimeout(res, r.retryAfterMs ?? 50));
      ws.send(frame(Number(String(r.clientId).slice(run.length + 1))));
    }
    await waitFor(before + pending.length);
    pending = answers.slice(before).filter((a) => a.type === "error");
  }
  const acks = answers.filter((a) => a.type === "ack");
  const refused = answers.filter((a) => a.type === "error");
  const result: BurstResult = {
    size,
    acked: new Set(acks.map((a) => a.clientId)).size,
    refused: refusedFirst.length,
    refusedWithoutClientId: refused.filter((a) => !a.clientId).length,
    closes,
    retryRounds: rounds,
    stored: new Set(acks.map((a) => a.seq)).size,
    ms: Date.now() - started,
  };
  await closeSocket(ws);
  return result;
}

/** 0 closes, every send acked once (after retries), every refusal naming its send. */
export const burstMet = (r: BurstResult) =>
  r.closes === 0 && r.acked === r.size && r.stored === r.size && r.refusedWithoutClientId === 0;
