import { z } from "zod";
import type { OutboxEvent } from "./outbox-event";

/**
 * Domain events on the wire: CloudEvents 1.0 in JSON, with two extension attributes, `tenantid`
 * and `traceparent` (the W3C trace context of the request that caused the change, so a consumer's
 * log lines join the producer's trace).
 */
export const CloudEventSchema = z
  .object({
    specversion: z.literal("1.0"),
    id: z.string().min(1).max(128),
    source: z.string().min(1).max(512),
    type: z.string().min(1).max(128),
    time: z.string().datetime().optional(),
    subject: z.string().max(512).optional(),
    tenantid: z.string().min(1).max(64),
    traceparent: z.string().max(64).optional(),
    datacontenttype: z.string().optional(),
    data: z.unknown().optional(),
  })
  .passthrough();
export type CloudEvent = z.infer<typeof CloudEventSchema>;

export type { OutboxEvent } from "./outbox-event";

export function toCloudEvent(tenantId: string, source: string, e: OutboxEvent): CloudEvent {
  return {
    specversion: "1.0",
    id: e.id,
    source,
    type: e.type,
    time: new Date(e.time).toISOString(),
    ...(e.subject ? { subject: e.subject } : {}),
    tenantid: tenantId,
    ...(e.traceparent ? { traceparent: e.traceparent } : {}),
    datacontenttype: "application/json",
    data: e.data,
  };
}

export type QueueName = "notification" | "statistics" | "ai";

/** The event types a queue's consumers take: a list, or every type. */
export interface QueueRoute {
  queue: QueueName;
  types: readonly string[] | "all";
}

let routes: QueueRoute[] = [];

/**
 * Sets which queues each event type goes to, from what the services' consumers take
 * (src/workers/gateway/services.ts does, once, from the list of service modules). An event goes
 * to every queue with a consumer for its type, and to no queue nobody reads.
 */
export function installQueueRoutes(list: QueueRoute[]): void {
  routes = list;
}

export function queuesFor(type: string): QueueName[] {
  const queues: QueueName[] = [];
  for (const r of routes) {
    if ((r.types === "all" || r.types.includes(type)) && !queues.includes(r.queue)) queues.push(r.queue);
  }
  return queues;
}

/** The producer binding of a queue. */
export function queueBinding(env: Env, q: QueueName): Queue {
  if (q === "notification") return env.NOTIFICATION_QUEUE;
  if (q === "statistics") return env.STATISTICS_QUEUE;
  return env.AI_QUEUE;
}

// sendBatch takes at most 100 messages and 256 KB; stay under both with room for framing.
const MAX_BATCH_MESSAGES = 100;
const MAX_BATCH_BYTES = 200_000;

/**
 * Sends events to the queues their types route to. Resolves once every queue accepted its
 * share; a rejection means some may have been sent and some not, so callers republish the lot
 * later (consumers are idempotent on the event id, so a repeat is harmless).
 */
export async function publishEvents(env: Env, events: CloudEvent[]): Promise<void> {
  const perQueue = new Map<QueueName, CloudEvent[]>();
  for (const e of events) for (const q of queuesFor(e.type)) perQueue.set(q, [...(perQueue.get(q) ?? []), e]);
  await Promise.all([...perQueue].map(([q, list]) => sendChunked(queueBinding(env, q), list)));
}

async function sendChunked(queue: Queue, events: CloudEvent[]): Promise<void> {
  let chunk: MessageSendRequest[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = JSON.stringify(e).length;
    if (chunk.length && (chunk.length >= MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES)) {
      await queue.sendBatch(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push({ body: e, contentType: "json" });
    bytes += size;
  }
  if (chunk.length) await queue.sendBatch(chunk);
}
