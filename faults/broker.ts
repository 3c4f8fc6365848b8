/**
 * The harness's stand-in for Cloudflare Queues. Raw workerd turns a queue send into an HTTP
 * request to the service the binding names, but runs no consumers; here each producer binding
 * points at a port of this broker (in the harness process, so it survives kills of workerd and
 * of the libSQL server, as the real queue service would). The broker keeps every message until
 * a consumer run acknowledges it, hands batches to the Worker's `queue()` handler through the
 * trigger Worker (trigger-worker.ts), applies its acks and retries, moves messages past
 * `max_retries` to the dead-letter queue, and counts, per queue and event id, how often each
 * event was published and how often a consumer run acknowledged it.
 *
 * Up to `max_concurrency` batches of one queue run at once (wrangler.toml's, else
 * DEFAULT_CONCURRENCY: Cloudflare scales consumers up with the backlog; one at a time would let
 * a backlog grow that production would not have).
 *
 * Departures from Cloudflare, on purpose: batches go out as soon as messages are there (no
 * `max_batch_timeout` wait); retry delays may be capped (`maxRetryDelayMs`) so a bounded run can
 * drain; a consumer that cannot be reached (workerd down) is not an attempt, the batch is simply
 * offered again half a second later.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { QueueSettings } from "./queue-settings";

interface Stored {
  id: string;
  queue: string;
  body: unknown;
  timestamp: number;
  /** Deliveries that reached a consumer run. */
  attempts: number;
  visibleAt: number;
  /** How its last failed delivery failed: its own retry, or the whole consumer run threw. */
  lastFailure: "message" | "run" | null;
}

/** What the event behind a message was (CloudEvents fields the verification reads). */
export interface SeenEvent {
  id: string;
  type: string;
  source: string;
  data: unknown;
}

const Envelope = z.object({ id: z.string(), type: z.string(), source: z.string(), data: z.unknown() }).loose();
const BatchBody = z.object({
  messages: z.array(
    z.object({ body: z.string(), contentType: z.string().optional(), delaySecs: z.number().optional() }),
  ),
});
/** What `Fetcher.queue()` answers (workerd's QueueRetryResult shape). */
const QueueResult = z.object({
  outcome: z.string(),
  ackAll: z.boolean().optional(),
  retryBatch: z.object({ retry: z.boolean(), delaySeconds: z.number().optional() }).optional(),
  explicitAcks: z.array(z.string()).optional(),
  retryMessages: z.array(z.object({ msgId: z.string(), delaySeconds: z.number().optional() })).optional(),
});

/** Per queue: event id → count. */
export type Tally = Map<string, Map<string, number>>;

function bump(t: Tally, queue: string, id: string): void {
  const m = t.get(queue) ?? new Map<string, number>();
  t.set(queue, m);
  m.set(id, (m.get(id) ?? 0) + 1);
}

function decode(raw: Buffer, contentType: string): unknown {
  if (contentType === "json") return JSON.parse(raw.toString("utf8")) as unknown;
  if (contentType === "text") return raw.toString("utf8");
  return raw;
}

export class QueueBroker {
  private readonly store = new Map<string, Stored>();
  private readonly inFlight = new Set<string>();
  /** Batches in a consumer run, per queue. */
  private readonly runs = new Map<string, number>();
  private readonly servers: Server[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Published (sent by a producer) and acknowledged (by a consumer run), per queue and event id. */
  readonly published: Tally = new Map();
  readonly acked: Tally = new Map();
  readonly events = new Map<string, SeenEvent>();
  readonly figures = { sends: 0, deliveries: 0, retries: 0, unreachable: 0, deadLettered: 0, consumerErrors: 0 };
  /** Messages moved to the dead-letter queue, by how their last delivery failed. */
  readonly deadLetteredBy = { message: 0, run: 0 };
  /** Consumer runs that threw (outcome other than "ok"), with when and how. */
  readonly failedRuns: { at: number; queue: string; size: number; outcome: string }[] = [];

  constructor(
    private readonly queues: QueueSettings[],
    /** POST target of batches: the trigger Worker's `/queue`. */
    private readonly consumerUrl: string,
    private readonly maxRetryDelayMs: number,
  ) {}

  /** One listener per queue on 127.0.0.1; answers binding → port. */
  async listen(): Promise<Map<string, number>> {
    const ports = new Map<string, number>();
    for (const q of this.queues) {
      const server = createServer((req, res) => void this.onSend(q, req, res));
      this.servers.push(server);
      ports.set(
        q.binding,
        await new Promise<number>((resolve) =>
          server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
        ),
      );
    }
    this.timer = setInterval(() => this.pump(), 100);
    return ports;
  }

  /** Messages not yet acknowledged (waiting, delayed or in a consumer run). */
  pending(): number {
    return this.store.size;
  }

  /** The event ids of messages still held (not yet acknowledged), per queue: pending, not lost. */
  heldEventIds(queue: string): Set<string> {
    const out = new Set<string>();
    for (const m of this.store.values()) {
      const e = Envelope.safeParse(m.body);
      if (m.queue === queue && e.success) out.add(e.data.id);
    }
    return out;
  }

  /** When a message was last stored or settled (acked, retried, dead-lettered): quiet since then. */
  lastActivity = 0;

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.closeAllConnections();
            s.close(() => r());
          }),
      ),
    );
  }

  /** Accepts a producer's `/message` or `/batch` (workerd's queue wire format). */
  private async onSend(q: QueueSettings, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    try {
      if (req.url === "/batch") {
        for (const m of BatchBody.parse(JSON.parse(raw.toString("utf8"))).messages) {
          this.enqueue(q.name, decode(Buffer.from(m.body, "base64"), m.contentType ?? "json"), m.delaySecs ?? 0);
        }
      } else {
        const fmt = String(req.headers["x-msg-fmt"] ?? "json");
        this.enqueue(q.name, decode(raw, fmt), Number(req.headers["x-msg-delay-secs"] ?? 0));
      }
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ metadata: { metrics: { backlogCount: this.store.size, backlogBytes: 0 } } }));
    } catch (err) {
      res.writeHead(400).end(String(err));
    }
  }

  /** Stores a message; counts it as a publication of its event (when the body is an event). */
  enqueue(queue: string, body: unknown, delaySecs = 0): void {
    this.figures.sends++;
    const id = randomUUID().replaceAll("-", "");
    const now = Date.now();
    this.lastActivity = now;
    this.store.set(id, {
      id,
      queue,
      body,
      timestamp: now,
      attempts: 0,
      visibleAt: now + Math.min(delaySecs * 1000, this.maxRetryDelayMs),
      lastFailure: null,
    });
    const e = Envelope.safeParse(body);
    if (e.success) {
      bump(this.published, queue, e.data.id);
      if (!this.events.has(e.data.id))
        this.events.set(e.data.id, { id: e.data.id, type: e.data.type, source: e.data.source, data: e.data.data });
    }
  }

  private pump(): void {
    const now = Date.now();
    for (const q of this.queues) {
      let ready = [...this.store.values()].filter(
        (m) => m.queue === q.name && m.visibleAt <= now && !this.inFlight.has(m.id),
      );
      while (ready.length && (this.runs.get(q.name) ?? 0) < q.maxConcurrency) {
        const batch = ready.slice(0, q.maxBatchSize);
        ready = ready.slice(q.maxBatchSize);
        this.runs.set(q.name, (this.runs.get(q.name) ?? 0) + 1);
        void this.deliver(q, batch).finally(() => this.runs.set(q.name, (this.runs.get(q.name) ?? 1) - 1));
      }
    }
  }

  private async deliver(q: QueueSettings, batch: Stored[]): Promise<void> {
    for (const m of batch) this.inFlight.add(m.id);
    let result: z.infer<typeof QueueResult>;
    try {
      const res = await fetch(this.consumerUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          queue: q.name,
          messages: batch.map((m) => ({ id: m.id, timestamp: m.timestamp, body: m.body, attempts: m.attempts + 1 })),
        }),
        signal: AbortSignal.timeout(120_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`trigger answered ${res.status}: ${text.slice(0, 200)}`);
      result = QueueResult.parse(JSON.parse(text));
    } catch {
      // workerd is down or restarting: offer the batch again shortly, not counted as an attempt.
      this.figures.unreachable++;
      for (const m of batch) {
        m.visibleAt = Date.now() + 500;
        this.inFlight.delete(m.id);
      }
      return;
    }
    this.figures.deliveries++;
    if (result.outcome !== "ok") {
      this.figures.consumerErrors++;
      this.failedRuns.push({ at: Date.now(), queue: q.name, size: batch.length, outcome: result.outcome });
    }
    const acks = new Set(result.explicitAcks ?? []);
    const retries = new Map((result.retryMessages ?? []).map((r) => [r.msgId, r.delaySeconds ?? 0]));
    this.lastActivity = Date.now();
    for (const m of batch) {
      this.inFlight.delete(m.id);
      m.attempts++;
      const retryAll = result.outcome !== "ok" || result.retryBatch?.retry === true;
      const retry = !acks.has(m.id) && !result.ackAll && (retries.has(m.id) || retryAll);
      if (!retry) {
        this.store.delete(m.id);
        const e = Envelope.safeParse(m.body);
        if (e.success) bump(this.acked, q.name, e.data.id);
        continue;
      }
      m.lastFailure = retries.has(m.id) ? "message" : "run";
      if (m.attempts > q.maxRetries) {
        this.store.delete(m.id);
        this.figures.deadLettered++;
        this.deadLetteredBy[m.lastFailure]++;
        if (q.deadLetterQueue) this.enqueue(q.deadLetterQueue, m.body);
        continue;
      }
      this.figures.retries++;
      const delayS = retries.get(m.id) ?? result.retryBatch?.delaySeconds ?? 0;
      m.visibleAt = Date.now() + Math.min(delayS * 1000, this.maxRetryDelayMs);
    }
  }
}
