import { z } from "zod";
import { log } from "../lib/log";

/** The CloudEvents 1.0 envelope every queue message carries (validated before any consumer). */
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

/** A consumer handles one validated event; throwing asks the queue to retry it later. */
export type Consumer = (event: CloudEvent, env: Env) => Promise<void>;

/**
 * Routes a batch to the consumer of its queue. Invalid envelopes are poison and go straight to
 * the dead-letter queue; a failing consumer retries the message with exponential backoff (the
 * queue moves it to the dead-letter queue after max_retries). A queue without a consumer yet
 * retries too, so nothing is acknowledged unprocessed.
 */
export async function dispatchBatch(batch: MessageBatch, env: Env, consumers: Partial<Record<string, Consumer>>): Promise<void> {
  const consumer = consumers[batch.queue];
  for (const msg of batch.messages) {
    const parsed = CloudEventSchema.safeParse(msg.body);
    if (!parsed.success) {
      log("warn", "poison message", { queue: batch.queue, messageId: msg.id });
      await env.DEAD_LETTER_QUEUE.send({ queue: batch.queue, reason: "invalid CloudEvent", body: msg.body });
      msg.ack();
      continue;
    }
    if (!consumer) {
      msg.retry({ delaySeconds: 60 });
      continue;
    }
    try {
      await consumer(parsed.data, env);
      msg.ack();
    } catch (err) {
      const delaySeconds = Math.min(3600, 2 ** msg.attempts * 5);
      log("warn", "consumer failed; retrying", { queue: batch.queue, eventId: parsed.data.id, attempt: msg.attempts, error: String(err) });
      msg.retry({ delaySeconds });
    }
  }
}
