import { platformDb } from "../../db/client";
import { insertDeadLetters, recordBatch, type NewDeadLetter } from "../../db/platform/events";
import { CloudEventSchema, type CloudEvent } from "../../lib/events";
import { log } from "../../lib/log";
import { metrics } from "../../lib/metrics/recorder";
import { parseTraceparent, Span, withTrace } from "../../lib/tracing/spans";
import type { TenantScope } from "../gateway/context";
import { tenantDb } from "../../db/tenant-db";
import { resolveTenantById } from "../tenancy/tenant-cache";
import { openCircuitIn } from "../../lib/breakers";

export { CloudEventSchema, type CloudEvent };

/**
 * A consumer applies one validated event of one tenant. Throwing `PoisonError` sends the event
 * to the dead-letter queue at once (it can never succeed: bad data for its type); any other
 * error retries it later with backoff, and after the queue's max_retries the queue itself
 * moves it to the dead-letter queue.
 */
export type Consumer = (event: CloudEvent, s: TenantScope) => Promise<void>;

export class PoisonError extends Error {}

/**
 * Several consumers on one queue, applied in order. Each is idempotent on its own
 * (consumer, event id) marker, so when a later one fails and the event is retried, the earlier
 * ones recognise the repeat and do nothing.
 */
export function allOf(...list: Consumer[]): Consumer {
  return async (event, s) => {
    for (const c of list) await c(event, s);
  };
}

/** Retry delay for the n-th attempt: 5 s, 10 s, 20 s … capped at an hour. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(3600, 5 * 2 ** Math.max(0, attempts - 1));
}

/** The envelope this Worker puts on the dead-letter queue itself (invalid or poison events). */
export interface DeadLetterEnvelope {
  deadLetter: 1;
  queue: string;
  reason: string;
  body: unknown;
}

/**
 * Routes a batch to the consumer of its queue, event by event (each is acked or retried on its
 * own, so one bad event does not hold the others). Events of deleted tenants are dropped.
 * The batch's figures (processed, retried, dead-lettered, lag) go to the platform DB for the
 * operators' queue view.
 */
/** Platform events (about a tenant as a whole, e.g. tenant.closed) skip tenant resolution: they run for suspended and deleted tenants too. */
export type PlatformHandlers = Partial<Record<string, (event: CloudEvent, env: Env) => Promise<void>>>;

const consumerAttributes = (queue: string, event: CloudEvent) => ({
  "messaging.system": "cloudflare_queues",
  "messaging.destination.name": queue,
  "messaging.operation.type": "process",
  "cloudevents.event_id": event.id,
  "cloudevents.event_type": event.type,
});

export async function dispatchBatch(
  batch: MessageBatch,
  env: Env,
  consumers: Partial<Record<string, Consumer>>,
  platform: PlatformHandlers = {},
  now = Date.now(),
): Promise<void> {
  const consumer = consumers[batch.queue];
  const figures = { processed: 0, retried: 0, deadLettered: 0, oldest: now };
  const queue = batch.queue;
  const outcome = (o: "processed" | "retried" | "dead_lettered", tenant = "") =>
    metrics.add("canopy_queue_messages_total", { queue, outcome: o }, 1, tenant);
  const toDeadLetter = async (msg: Message, reason: string, tenant = "") => {
    const envelope: DeadLetterEnvelope = { deadLetter: 1, queue: batch.queue, reason, body: msg.body };
    await env.DEAD_LETTER_QUEUE.send(envelope, { contentType: "json" });
    figures.deadLettered++;
    outcome("dead_lettered", tenant);
    msg.ack();
  };
  for (const msg of batch.messages) {
    const parsed = CloudEventSchema.safeParse(msg.body);
    if (!parsed.success) {
      log("warn", "invalid event sent to the dead-letter queue", { queue: batch.queue, messageId: msg.id });
      await toDeadLetter(msg, `invalid CloudEvent: ${parsed.error.issues[0]?.message ?? "bad envelope"}`);
      continue;
    }
    const event = parsed.data;
    if (event.time) {
      const at = Date.parse(event.time);
      figures.oldest = Math.min(figures.oldest, at);
      if (Number.isFinite(at))
        metrics.observe("canopy_queue_lag_seconds", { queue }, Math.max(0, now - at) / 1000, event.tenantid);
    }
    if (!consumer) {
      msg.retry({ delaySeconds: 60 });
      figures.retried++;
      outcome("retried", event.tenantid);
      continue;
    }
    const fields = {
      queue: batch.queue,
      eventId: event.id,
      type: event.type,
      tenantId: event.tenantid,
      traceparent: event.traceparent,
    };
    // The consumer's span continues the trace of the request that caused the event (its
    // traceparent rides in the envelope): one trace from the request to every consumer.
    const parent = parseTraceparent(event.traceparent);
    const span = new Span(`${queue} process`, "consumer", parent, consumerAttributes(queue, event), !!parent?.sampled);
    try {
      await withTrace(span.context, async () => {
        const handler = platform[event.type];
        const tenant = handler ? null : await resolveTenantById(env, () => platformDb(env), event.tenantid);
        if (handler) {
          await handler(event, env);
        } else if (!tenant) {
          log("info", "event of an unknown or deleted tenant dropped", fields);
        } else {
          // One database handle for the event, shared by every consumer of its queue.
          await consumer(event, { env, tenant, db: tenantDb(tenant.db) });
        }
      });
      span.end();
      msg.ack();
      figures.processed++;
      outcome("processed", event.tenantid);
    } catch (err) {
      span.end(err);
      if (err instanceof PoisonError) {
        log("warn", "poison event sent to the dead-letter queue", { ...fields, error: err.message });
        await toDeadLetter(msg, err.message, event.tenantid);
        continue;
      }
      // A dependency whose breaker is open: not before its probe is due (an attempt spent sooner
      // would fail the same way).
      const delaySeconds = retryDelaySeconds(msg.attempts) + (openCircuitIn(err)?.retryAfterSeconds ?? 0);
      log("warn", "consumer failed; retrying", { ...fields, attempt: msg.attempts, delaySeconds, error: String(err) });
      msg.retry({ delaySeconds });
      figures.retried++;
      outcome("retried", event.tenantid);
    }
  }
  await recordBatch(platformDb(env), {
    queue: batch.queue,
    processed: figures.processed,
    retried: figures.retried,
    deadLettered: figures.deadLettered,
    size: batch.messages.length,
    lagMs: Math.max(0, now - figures.oldest),
    at: now,
  }).catch((err: unknown) => log("warn", "queue figures not recorded", { queue: batch.queue, error: String(err) }));
}

/**
 * The dead-letter queue's consumer: every message becomes a row the platform admin can list
 * and replay. A message without our envelope is an event the queue moved after its retries ran
 * out (the queue it failed on is not known then).
 */
export async function storeDeadLetters(batch: MessageBatch, env: Env, now = Date.now()): Promise<void> {
  const rows: NewDeadLetter[] = batch.messages.map((msg) => {
    const env1 = msg.body as Partial<DeadLetterEnvelope> | null;
    const wrapped = env1 && typeof env1 === "object" && env1.deadLetter === 1;
    const body = wrapped ? env1.body : msg.body;
    const event = CloudEventSchema.safeParse(body);
    return {
      id: msg.id,
      queue: wrapped ? String(env1.queue) : null,
      reason: wrapped ? String(env1.reason) : "retries exhausted",
      eventId: event.success ? event.data.id : null,
      eventType: event.success ? event.data.type : null,
      tenantId: event.success ? event.data.tenantid : null,
      body: JSON.stringify(body ?? null),
      createdAt: now,
    };
  });
  await insertDeadLetters(platformDb(env), rows);
  for (const msg of batch.messages) msg.ack();
  log("warn", "dead letters stored", { count: rows.length });
}
