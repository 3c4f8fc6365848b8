import { insertDeliveries } from "../../db/tenant/webhook-deliveries";
import { enabledEndpoints, type WebhookEndpointRow } from "../../db/tenant/webhooks";
import { newId } from "../../lib/ids";
import type { Consumer } from "../events/queues";
import { attemptDelivery, LEASE_MS, payloadOf } from "./deliver";

/** Whether a type matches a pattern: the exact type, `*`, or a prefix wildcard (`friend.*` matches `friend.request.received`). */
export function matchesType(pattern: string, type: string): boolean {
  if (pattern === "*" || pattern === type) return true;
  return pattern.endsWith(".*") && type.startsWith(pattern.slice(0, -1));
}

export const subscribed = (endpoint: WebhookEndpointRow, type: string): boolean =>
  (JSON.parse(endpoint.eventTypes) as string[]).some((p) => matchesType(p, type));

/**
 * Tenant webhooks on the notification queue: one delivery per enabled endpoint subscribed to
 * the event's type. The rows commit before any request goes out (no HTTP inside a
 * transaction); then each healthy endpoint gets its first attempt right away. An endpoint in a
 * failure run is not tried inline: its delivery is left due for the minute sweep, so one dead or
 * hanging receiver cannot hold up the queue (every tenant's notifications) for ten seconds an
 * event. A redelivered event finds its rows already there (unique endpoint + event) and sends
 * nothing, leaving retries to the sweep: a receiver sees one message per event and endpoint,
 * retried under one `webhook-id`.
 */
export const webhookConsumer: Consumer = async (event, { env, tenant, db }) => {
  const endpoints = (await enabledEndpoints(db)).filter((e) => subscribed(e, event.type));
  if (!endpoints.length) return;
  const now = Date.now();
  const payload = payloadOf(event);
  const rows = endpoints.map((e) => ({
    id: newId(now),
    endpointId: e.id,
    eventId: event.id,
    eventType: event.type,
    payload,
    traceparent: event.traceparent ?? null,
    // Claimed (leased) by this consumer when it attempts now; due at once for the sweep otherwise.
    nextAttemptAt: e.consecutiveFailures === 0 ? now + LEASE_MS : now,
  }));
  const created = await insertDeliveries(db, rows, now);
  const healthy = new Map(endpoints.filter((e) => e.consecutiveFailures === 0).map((e) => [e.id, e]));
  // Attempt failures are recorded, not thrown: only a database error fails the event, and its
  // redelivery then leaves the already-created deliveries to the sweep.
  await Promise.all(
    created.flatMap((d) => {
      const endpoint = healthy.get(d.endpointId);
      return endpoint ? [attemptDelivery(env, tenant, db, endpoint, d, "event", now)] : [];
    }),
  );
};
