/**
 * Webhook deliveries were not duplicated beyond the documented at-least-once (docs/webhooks.md):
 * - one message per event and endpoint: the receiver never saw two webhook-ids for one event,
 *   and each webhook-id it saw is the delivery row of that event;
 * - the same webhook-id may arrive again (a retry whose success was lost), but not more often
 *   than the delivery's recorded attempts plus one (an attempt whose outcome a fault kept from
 *   being recorded);
 * - nothing lost: every event the notification consumer acknowledged after the endpoint
 *   existed has its delivery row, and every delivery the log calls succeeded reached the
 *   receiver; deliveries still pending (a lease or a backoff not yet run out) are reported;
 * - every arrival carries a valid signature.
 */
import { z } from "zod";
import type { QueueBroker } from "../broker";
import type { WebhookReceiver } from "../receiver";
import type { Sqlite } from "../storage";
import { check, fail, type Check } from "./check";

const Delivery = z.object({
  id: z.string(),
  event_id: z.string(),
  event_type: z.string(),
  status: z.string(),
  attempts: z.number(),
  recorded: z.number(),
  next_attempt_at: z.number().nullable(),
});

export function verifyWebhooks(
  broker: QueueBroker,
  receiver: WebhookReceiver,
  tenant: Sqlite,
  endpointId: string,
  subscribedAt: number,
): Check {
  const c = check("webhooks: one message per event, repeats within at-least-once, none lost");
  const deliveries = tenant.rows(
    Delivery,
    `SELECT d.id, d.event_id, d.event_type, d.status, d.attempts, d.next_attempt_at,
      (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id) AS recorded
    FROM webhook_deliveries d WHERE d.endpoint_id = ?`,
    endpointId,
  );
  const byEvent = new Map(deliveries.map((d) => [d.event_id, d]));
  const arrivals = receiver.arrivals;
  const idsByEvent = new Map<string, Set<string>>();
  const perId = new Map<string, number>();
  for (const a of arrivals) {
    idsByEvent.set(a.eventId, new Set([...(idsByEvent.get(a.eventId) ?? []), a.webhookId]));
    perId.set(a.webhookId, (perId.get(a.webhookId) ?? 0) + 1);
    if (!a.signatureOk) fail(c, `arrival ${a.webhookId} (${a.type}) has no valid signature`);
  }
  if (receiver.malformed) fail(c, `${receiver.malformed} requests to the receiver were not webhooks`);
  for (const [eventId, ids] of idsByEvent) {
    if (ids.size > 1) fail(c, `event ${eventId} arrived as ${ids.size} messages (webhook-ids ${[...ids].join(", ")})`);
    const d = byEvent.get(eventId);
    if (d && !ids.has(d.id)) fail(c, `event ${eventId} arrived as ${[...ids].join(", ")}, but its delivery is ${d.id}`);
    if (!d && eventId !== "") fail(c, `event ${eventId} arrived but has no delivery row`);
  }
  let repeats = 0;
  let pending = 0;
  for (const d of deliveries) {
    const n = perId.get(d.id) ?? 0;
    if (n > 1) repeats += n - 1;
    if (n > Math.max(d.recorded, 1) + 1)
      fail(c, `delivery ${d.id} (${d.event_type}) arrived ${n}× with ${d.recorded} attempts recorded`);
    if (d.status === "succeeded" && n === 0)
      fail(c, `delivery ${d.id} (${d.event_type}) is recorded as succeeded but never arrived`);
    if (d.status === "pending") pending++;
    if (d.status === "failed")
      fail(c, `delivery ${d.id} (${d.event_type}) failed for good: the receiver never refuses`);
  }
  // Events consumed once the endpoint existed must each have a delivery row.
  for (const id of broker.acked.get("canopy-notification")?.keys() ?? []) {
    const e = broker.events.get(id);
    if (!e) continue;
    c.attempted++;
    if (byEvent.has(id)) {
      c.acknowledged++;
      if ((perId.get(byEvent.get(id)!.id) ?? 0) > 0) c.found++;
    } else if (idTime(id) > subscribedAt) {
      c.lost++;
      fail(c, `event ${id} (${e.type}) was consumed after the endpoint existed but has no delivery`);
    }
  }
  c.notes.push(
    `arrivals ${arrivals.length}, repeats of one webhook-id (allowed) ${repeats}, deliveries still pending ${pending}`,
  );
  return c;
}

/** The time inside a Canopy id (ULID-like: the first 10 characters are milliseconds in Crockford base32). */
function idTime(id: string): number {
  const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  let t = 0;
  for (const ch of id.slice(0, 10).toLowerCase()) {
    const v = alphabet.indexOf(ch);
    if (v < 0) return Number.POSITIVE_INFINITY;
    t = t * 32 + v;
  }
  return t;
}
