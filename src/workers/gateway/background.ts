import { closeTenantSockets, TENANT_CLOSED } from "../admin/sockets";
import { runCron, type TenantSweep } from "../events/cron";
import { archiveConsumer } from "../messages/archive";
import { notificationConsumer } from "../notifications/consumer";
import { allOf, dispatchBatch, storeDeadLetters, type Consumer } from "../events/queues";
import { statisticsConsumer } from "../statistics/consumer";
import { webhookConsumer } from "../webhooks/consumer";
import { webhookSweep } from "../webhooks/sweep";

/**
 * The Worker's non-HTTP entry points, assembled like the HTTP app: which consumer serves which
 * queue, and which per-tenant sweeps the minute cron runs beyond the core ones.
 */
export const consumers: Partial<Record<string, Consumer>> = {
  "canopy-notification": allOf(notificationConsumer, webhookConsumer),
  "canopy-statistics": allOf(statisticsConsumer, archiveConsumer),
};

export const tenantSweeps: TenantSweep[] = [webhookSweep];

export const DEAD_LETTER_QUEUE = "canopy-dlq";

export async function handleQueue(batch: MessageBatch, env: Env): Promise<void> {
  if (batch.queue === DEAD_LETTER_QUEUE) return storeDeadLetters(batch, env);
  return dispatchBatch(
    batch,
    env,
    consumers,
    batch.queue === "canopy-notification" ? { [TENANT_CLOSED]: closeTenantSockets } : {},
  );
}

/** The minute cron with every sweep; `now` is injectable so tests can move the clock. */
export function runScheduled(env: Env, now = Date.now()): Promise<Record<string, number>> {
  return runCron(env, tenantSweeps, now);
}
