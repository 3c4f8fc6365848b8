import { userIdsAfter } from "../../db/tenant/users";
import { platformDb } from "../../db/client";
import { findTenantById } from "../../db/platform/tenants";
import { tenantDb, tenantDbLocation } from "../../db/tenant-db";
import { toCloudEvent, type CloudEvent } from "../../lib/events";
import { newId } from "../../lib/ids";
import { log } from "../../lib/log";
import { gatewayStub, hubStub } from "../../durable/protocol/stubs";
import { parseStoredConfig } from "../../lib/tenant-config";

/** The event that asks every hub of a tenant to end its sockets (suspension or deletion). */
export const TENANT_CLOSED = "tenant.closed";
const PAGE = 100;
const PARALLEL = 20;

/** Queues the closing of a tenant's sockets; the consumer below does the work, with retries. */
export async function requestSocketClose(
  env: Env,
  tenantId: string,
  reason: "tenant_suspended" | "tenant_deleted",
): Promise<void> {
  const now = Date.now();
  await env.NOTIFICATION_QUEUE.send(
    toCloudEvent(tenantId, "/platform/tenants", {
      id: newId(now),
      type: TENANT_CLOSED,
      subject: tenantId,
      data: { reason },
      time: now,
    }),
    { contentType: "json" },
  );
}

/**
 * Ends the sockets of every user of a tenant with a final `closed` frame giving the reason:
 * every gateway of the tenant, then every user's hub (for gateways of an earlier count).
 * Runs for suspended and deleted tenants alike (the database is kept until purge), so it
 * resolves the tenant row itself instead of going through the active-tenant cache. Idempotent:
 * a retry closes nothing twice. Users are visited a page at a time, 20 hubs at once.
 */
export async function closeTenantSockets(event: CloudEvent, env: Env): Promise<void> {
  const reason =
    (event.data as { reason?: unknown } | undefined)?.reason === "tenant_deleted"
      ? "tenant_deleted"
      : "tenant_suspended";
  const row = await findTenantById(platformDb(env), event.tenantid);
  if (!row || !row.dbUrl) return;
  if (row.status === "active") return; // resumed meanwhile: nothing to close
  // Every gateway of the tenant first: that reaches every socket, logged by its hub or not.
  const count = parseStoredConfig(row.config).realtime.gateways;
  let closed = 0;
  for (let g = 0; g < count; g += PARALLEL) {
    const batch = Array.from({ length: Math.min(PARALLEL, count - g) }, (_, i) =>
      gatewayStub(env, row.id, g + i).closeAll(reason),
    );
    closed += (await Promise.all(batch)).reduce((a, b) => a + b, 0);
  }
  // Then each user's hub: sockets on gateways of an earlier count (its log names them).
  const db = tenantDb(await tenantDbLocation(env, row));
  for (let after = ""; ; ) {
    const ids = await userIdsAfter(db, after, PAGE);
    for (let i = 0; i < ids.length; i += PARALLEL) {
      const counts = await Promise.all(
        ids.slice(i, i + PARALLEL).map((id) => hubStub(env, row.id, id).closeSockets(reason)),
      );
      closed += counts.reduce((a, b) => a + b, 0);
    }
    if (ids.length < PAGE) break;
    after = ids[ids.length - 1]!;
  }
  log("info", "tenant sockets closed", { tenantId: row.id, reason, sockets: closed });
}
