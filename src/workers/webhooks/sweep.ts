import { inArray } from "drizzle-orm";
import { claimDue, pruneDeliveries, type WebhookDeliveryRow } from "../../db/tenant/webhook-deliveries";
import { webhookEndpoints } from "../../db/tenant/webhooks";
import type { TenantSweep } from "../events/cron";
import { attemptDelivery, LEASE_MS } from "./deliver";

/** Due retries attempted per tenant per minute; the rest wait for the next minute (oldest due first). */
export const SWEEP_BATCH = 50;
/** Requests in flight at once per tenant (a Worker invocation has six outbound connections). */
const CONCURRENCY = 6;
const KEEP_DELIVERIES_MS = 30 * 86_400_000;

/**
 * The minute cron's part for webhooks: claims the tenant's due retries (a bounded batch, only
 * of enabled endpoints), attempts them a few at a time, and once an hour drops deliveries
 * older than 30 days. `now` is the cron's clock, so tests move time instead of sleeping.
 */
export const webhookSweep: TenantSweep = async ({ env, tenant, db }, now) => {
  const due = await claimDue(db, now, { limit: SWEEP_BATCH, leaseMs: LEASE_MS });
  const figures: Record<string, number> = {};
  if (due.length) {
    const endpointIds = [...new Set(due.map((d) => d.endpointId))];
    const endpoints = new Map(
      (await db.select().from(webhookEndpoints).where(inArray(webhookEndpoints.id, endpointIds)).all()).map((e) => [
        e.id,
        e,
      ]),
    );
    const queue: WebhookDeliveryRow[] = [...due];
    let succeeded = 0;
    const worker = async () => {
      for (let d = queue.shift(); d; d = queue.shift()) {
        const endpoint = endpoints.get(d.endpointId);
        // Deleted or disabled since the claim: leave the row (deleting removed it; re-enabling resumes it).
        if (!endpoint || endpoint.status !== "enabled") continue;
        const { delivery, disabled } = await attemptDelivery(env, tenant, db, endpoint, d, "retry", now);
        if (delivery?.status === "succeeded") succeeded++;
        // The rest of this endpoint's batch stays pending: it resumes if the endpoint is re-enabled.
        if (disabled) endpoints.set(endpoint.id, { ...endpoint, status: "disabled" });
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker));
    Object.assign(figures, { webhookRetries: due.length, webhookRetriesSucceeded: succeeded });
  }
  if (new Date(now).getUTCMinutes() === 0) {
    const pruned = await pruneDeliveries(db, now - KEEP_DELIVERIES_MS);
    if (pruned) figures.webhookDeliveriesPruned = pruned;
  }
  return figures;
};
