/**
 * Chat time-to-first-delta: `POST /v1/ai/chat` (local provider, tenant `ai-a`'s knowledge base),
 * each turn timed from the request's start to the first bytes of an `event: delta` frame, and to
 * the stream's end (the `done` frame). Serial: one user, a new session per turn. Concurrent: one
 * session per user, all users at once, each asking its turns in its own session.
 */
import { Agent, request } from "node:http";
import { percentile } from "../measure";
import { QUESTIONS } from "./knowledge";
import { LEASED, type User } from "./stack";

export interface Turn {
  /** µs from the request's start to the first delta, and to the end of the stream. */
  firstDelta: number;
  total: number;
  sessionId: string;
  answered: boolean;
}

export interface ChatResult {
  turns: number;
  p50: number;
  p99: number;
  totalP50: number;
  /** Turns whose `done` said `answered: true`. */
  answered: number;
  /** Turns per second over the whole run (concurrent runs). */
  turnsPerSecond: number;
}

/** One turn; rejects unless the stream answers 200 with a delta and a `done`. */
export function turn(agent: Agent, origin: string, user: User, message: string, sessionId?: string): Promise<Turn> {
  const url = new URL("/v1/ai/chat", origin);
  const body = JSON.stringify(sessionId ? { sessionId, message } : { message });
  const t0 = process.hrtime.bigint();
  const since = () => Number(process.hrtime.bigint() - t0) / 1000;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        headers: {
          "x-tenant": LEASED,
          authorization: `Bearer ${user.accessToken}`,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
        },
        timeout: 30_000,
      },
      (res) => {
        let text = "";
        let firstDelta = 0;
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
          if (firstDelta === 0 && text.includes("event: delta")) firstDelta = since();
        });
        res.on("end", () => {
          const total = since();
          const done = /event: done\ndata: (.*)\n/.exec(text);
          if (res.statusCode !== 200 || firstDelta === 0 || !done?.[1]) {
            reject(new Error(`chat: ${res.statusCode} ${text.slice(0, 300)}`));
            return;
          }
          const d = JSON.parse(done[1]) as { sessionId: string; answered: boolean };
          resolve({ firstDelta, total, sessionId: d.sessionId, answered: d.answered });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("chat: no answer within 30 s")));
    req.on("error", reject);
    req.end(body);
  });
}

function summarise(turns: Turn[], seconds: number): ChatResult {
  const first = turns.map((t) => t.firstDelta).sort((a, b) => a - b);
  const total = turns.map((t) => t.total).sort((a, b) => a - b);
  return {
    turns: turns.length,
    p50: percentile(first, 50),
    p99: percentile(first, 99),
    totalP50: percentile(total, 50),
    answered: turns.filter((t) => t.answered).length,
    turnsPerSecond: turns.length / seconds,
  };
}

/** `n` serial turns of `user`, each in a new session, over one keep-alive connection. */
export async function serialChat(origin: string, user: User, n: number): Promise<ChatResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const turns: Turn[] = [];
  const t0 = Date.now();
  try {
    for (let i = 0; i < n; i++) turns.push(await turn(agent, origin, user, QUESTIONS[i % QUESTIONS.length]!));
  } finally {
    agent.destroy();
  }
  return summarise(turns, (Date.now() - t0) / 1000);
}

/** Every user at once, each asking `perSession` turns in one session of its own. */
export async function concurrentChat(origin: string, users: User[], perSession: number): Promise<ChatResult> {
  const t0 = Date.now();
  const all = await Promise.all(
    users.map(async (u, k) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const out: Turn[] = [];
      try {
        let sessionId: string | undefined;
        for (let i = 0; i < perSession; i++) {
          const t = await turn(agent, origin, u, QUESTIONS[(k + i) % QUESTIONS.length]!, sessionId);
          sessionId = t.sessionId;
          out.push(t);
        }
      } finally {
        agent.destroy();
      }
      return out;
    }),
  );
  return summarise(all.flat(), (Date.now() - t0) / 1000);
}
