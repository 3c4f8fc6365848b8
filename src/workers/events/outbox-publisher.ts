import type { TenantDb } from "../../db/client";
import { claimUnpublished, markPublished } from "../../db/tenant/outbox";
import { publishEvents, toCloudEvent } from "../../lib/events";
import { log } from "../../lib/log";
import type { ResolvedTenant } from "../gateway/context";

/** How long a claimed row is reserved for its publisher before another may take it. */
export const OUTBOX_LEASE_MS = 30_000;
const BATCH = 100;
const MAX_ROUNDS = 20;

/**
 * Publishes a tenant's unpublished outbox rows: claim a batch (one statement), send it to the
 * queues, confirm it. Called after every successful write request (in the background) and by
 * the cron sweeper for anything older than `minAgeMs` that a crash or a queue outage left
 * behind. At-least-once: a publisher that dies after sending but before confirming leaves rows
 * that are sent again once their lease expires; consumers drop the repeat by event id.
 */
export async function publishTenantOutbox(
  env: Env,
  tenant: Pick<ResolvedTenant, "id">,
  db: TenantDb,
  now = Date.now(),
  minAgeMs = 0,
): Promise<number> {
  let published = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const rows = await claimUnpublished(db, now, {
      limit: BATCH,
      leaseMs: OUTBOX_LEASE_MS,
      createdBefore: now - minAgeMs,
    });
    if (!rows.length) break;
    await publishEvents(
      env,
      rows.map((r) => toCloudEvent(tenant.id, `/tenants/${tenant.id}`, r)),
    );
    await markPublished(
      db,
      rows.map((r) => r.id),
      Date.now(),
    );
    published += rows.length;
    if (rows.length < BATCH) break;
  }
  return published;
}

/** The background publish after a request that may have written outbox rows; failures wait for the sweeper. */
export function publishInBackground(env: Env, tenant: Pick<ResolvedTenant, "id">, db: TenantDb): Promise<void> {
  return publishTenantOutbox(env, tenant, db).then(
    () => undefined,
    (err: unknown) =>
      log("warn", "outbox publish failed; the sweeper will retry", { tenantId: tenant.id, error: String(err) }),
  );
}
