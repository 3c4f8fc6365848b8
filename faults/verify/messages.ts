/**
 * Acknowledged messages are all in their conversation logs, with gap-free seqs. Each log is read
 * back whole through `GET /v1/conversations/{id}/messages?after=` and checked: seqs are exactly
 * 1..N; every acknowledged send is at its acked seq with its acked message id and its own body
 * (which carries the client id); no client id was stored twice; a repeat of a client id was
 * acknowledged with the original seq; nothing is in a log that no one sent.
 */
import { z } from "zod";
import { callWithRetry, type Api } from "../http";
import type { SendRecord } from "../load/messages";
import type { Pair } from "../world";
import { check, fail, type Check } from "./check";

const Entry = z
  .object({ seq: z.number(), messageId: z.string(), senderId: z.string(), kind: z.string(), body: z.unknown() })
  .loose();
const Page = z.object({ items: z.array(Entry), nextCursor: z.string().nullable() });
export type LogEntry = z.infer<typeof Entry>;

const textOf = (body: unknown): string | undefined => {
  const t = typeof body === "object" && body !== null && "text" in body ? body.text : undefined;
  return typeof t === "string" ? t : undefined;
};

/** A conversation's whole log, oldest first. */
export async function readLog(api: Api, pair: Pair): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for (let after = 0; ; ) {
    const { last } = await callWithRetry(
      api,
      "verify.history",
      "GET",
      `/v1/conversations/${pair.conversationId}/messages?after=${after}&limit=100`,
      { token: pair.a.accessToken },
      Date.now() + 30_000,
    );
    if (last.status !== 200)
      throw new Error(`reading ${pair.conversationId}: ${last.status ?? last.error} ${last.body}`);
    const page = Page.parse(last.json);
    out.push(...page.items);
    if (!page.nextCursor || !page.items.length) return out;
    // Continue after the last seq read (the nextCursor is an opaque signed cursor).
    after = page.items[page.items.length - 1]!.seq;
  }
}

/** Checks one set of sends (socket or HTTP) against the logs. */
function checkSends(name: string, sends: SendRecord[], logs: Map<string, LogEntry[]>): Check {
  const c = check(name);
  let storedUnacked = 0;
  let refused = 0;
  for (const r of sends) {
    c.attempted++;
    const log = logs.get(r.conversationId) ?? [];
    const stored = log.filter((e) => textOf(e.body) === r.clientId);
    if (r.ackMismatch) fail(c, `client id ${r.clientId} acknowledged twice differently: ${r.ackMismatch}`);
    if (r.refused) refused++;
    if (!r.ack) {
      if (stored.length) storedUnacked++;
      continue;
    }
    c.acknowledged++;
    const at = log.find((e) => e.seq === r.ack!.seq);
    if (at && at.messageId === r.ack.messageId && textOf(at.body) === r.clientId && at.senderId === r.senderId)
      c.found++;
    else {
      c.lost++;
      fail(
        c,
        `acknowledged ${r.clientId} (seq ${r.ack.seq}, ${r.ack.messageId}, ${r.sends} sends) is not in ${r.conversationId}: at that seq ${at ? JSON.stringify(at).slice(0, 200) : "nothing"}`,
      );
    }
  }
  if (storedUnacked) c.notes.push(`stored though never acknowledged (answer lost to a fault): ${storedUnacked}`);
  if (refused) c.notes.push(`refused: ${refused}`);
  c.notes.push(`re-sends: ${sends.reduce((n, r) => n + Math.max(0, r.sends - 1), 0)}`);
  return c;
}

/** The log-wide properties: gap-free seqs, one entry per client id, no entry nobody sent. */
function checkLogs(logs: Map<string, LogEntry[]>, sent: Set<string>): Check {
  const c = check("conversation logs: seqs 1..N without gaps, one entry per client id");
  let bad = 0;
  const wrong = (message: string) => {
    bad++;
    fail(c, message);
  };
  for (const [conversationId, log] of logs) {
    c.attempted += log.length;
    log.forEach((e, i) => {
      if (e.seq !== i + 1) wrong(`${conversationId}: entry ${i + 1} has seq ${e.seq} (gap or repeat)`);
    });
    const seen = new Map<string, number>();
    for (const e of log) {
      const t = textOf(e.body);
      if (t === undefined || e.kind !== "text") continue;
      if (seen.has(t)) wrong(`${conversationId}: client id ${t} stored twice, seq ${seen.get(t)} and ${e.seq}`);
      seen.set(t, e.seq);
      if (!sent.has(t)) wrong(`${conversationId}: seq ${e.seq} (${t}) was never sent by the load`);
    }
  }
  // Every entry is a stored write; "found" are those that passed the checks above.
  c.acknowledged = c.attempted;
  c.found = Math.max(0, c.attempted - bad);
  return c;
}

export async function verifyMessages(
  api: Api,
  pairs: Pair[],
  socketSends: SendRecord[],
  httpSends: SendRecord[],
): Promise<{ checks: Check[]; logs: Map<string, LogEntry[]> }> {
  const logs = new Map<string, LogEntry[]>();
  for (const p of pairs) logs.set(p.conversationId, await readLog(api, p));
  const sent = new Set([...socketSends, ...httpSends].map((r) => r.clientId));
  return {
    logs,
    checks: [
      checkSends("messages sent over sockets", socketSends, logs),
      checkSends("messages sent over HTTP", httpSends, logs),
      checkLogs(logs, sent),
    ],
  };
}
