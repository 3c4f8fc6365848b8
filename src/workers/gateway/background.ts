import { flushMetricsSoon } from "../../durable/protocol/metrics-sink";
import { runCron } from "../events/cron";
import { exportSpansSoon } from "../../lib/tracing/otlp";
import { configureTelemetry } from "../../lib/telemetry";
import { allOf, dispatchBatch, storeDeadLetters, type Consumer, type PlatformHandlers } from "../events/queues";
import type { QueueName } from "../../lib/events";
import { services } from "./services";

/**
 * The Worker's non-HTTP entry points, assembled from the list of services like the HTTP app:
 * which consumers serve which queue (in list order; each is idempotent on its own marker, so a
 * retry after a later one failed is harmless), which platform events each queue handles, and
 * which per-tenant sweeps the minute cron runs beyond the core ones.
 */
const queueName = (q: QueueName) => `canopy-${q}`;

function consumersByQueue(): Partial<Record<string, Consumer>> {
  const lists = new Map<string, Consumer[]>();
  for (const s of services) {
    for (const c of s.consumers ?? []) {
      // A consumer sees the event types it declared (the queue carries the union of its consumers').
      const types = c.types === "all" ? null : new Set(c.types);
      const consume: Consumer = types
        ? (event, scope) => (types.has(event.type) ? c.consume(event, scope) : Promise.resolve())
        : c.consume;
      lists.set(queueName(c.queue), [...(lists.get(queueName(c.queue)) ?? []), consume]);
    }
  }
  return Object.fromEntries([...lists].map(([queue, list]) => [queue, allOf(...list)]));
}

function platformHandlers(): Partial<Record<string, PlatformHandlers>> {
  const out: Partial<Record<string, PlatformHandlers>> = {};
  for (const s of services) {
    for (const p of s.platformEvents ?? [])
      out[queueName(p.queue)] = { ...out[queueName(p.queue)], [p.type]: p.handle };
  }
  return out;
}

const consumers = consumersByQueue();
const platform = platformHandlers();
const tenantSweeps = services.flatMap((s) => s.sweeps ?? []);

export const DEAD_LETTER_QUEUE = "canopy-dlq";

export async function handleQueue(
  batch: MessageBatch,
  env: Env,
  waitUntil?: (p: Promise<unknown>) => void,
): Promise<void> {
  configureTelemetry(env);
  try {
    if (batch.queue === DEAD_LETTER_QUEUE) return await storeDeadLetters(batch, env);
    return await dispatchBatch(batch, env, consumers, platform[batch.queue] ?? {});
  } finally {
    if (waitUntil) {
      flushMetricsSoon(env, waitUntil);
      exportSpansSoon(env, waitUntil);
    }
  }
}

/** The minute cron with every sweep; `now` is injectable so tests can move the clock. */
export function runScheduled(env: Env, now = Date.now()): Promise<Record<string, number>> {
  return runCron(env, tenantSweeps, now);
}
