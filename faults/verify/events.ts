/**
 * The outbox published every recorded event to its consumers, and each consumer applied it once.
 * - Tenant DB outbox (storage): every row is published, or still under a publisher's lease
 *   (pending, not lost); a row marked published reached the notification queue, which gets
 *   every event (docs/events.md), at least once by the broker's count.
 * - Durable Object outboxes: every log entry has exactly one `message.created` event id (none
 *   missing, none recorded twice) and no event names a seq the log lacks; rows objects still
 *   hold are either sent (the broker has them) or covered by a scheduled alarm.
 * - Consumers: every publication was acknowledged by a consumer run, none dead-lettered; the
 *   statistics consumer left exactly one marker per event it consumed, and its counters equal
 *   what storage holds (messages in the logs, accounts, sessions in the hubs: each counted
 *   once, none missed); the archive holds every log entry; each announcement has its
 *   single event and an inbox entry for every user.
 * Publishing an event more than once is allowed (at least once) and reported.
 */
import { z } from "zod";
import type { QueueBroker } from "../broker";
import type { AnnouncementOp } from "../load/misc";
import { alarms, objectOutbox, type ObjectFile, type Sqlite } from "../storage";
import type { User } from "../world";
import { check, countBy, describeCounts, fail, type Check } from "./check";
import type { LogEntry } from "./messages";

const Row = z.object({
  id: z.string(),
  type: z.string(),
  created_at: z.number(),
  published_at: z.number().nullable(),
  claimed_until: z.number().nullable(),
});
/** Event types the statistics consumer applies with a marker (src/workers/statistics/consumer.ts). */
const STATISTICS_MARKED = new Set([
  "user.registered",
  "user.deleted",
  "session.created",
  "session.refreshed",
  "connection.opened",
  "connection.closed",
  "message.created",
]);

const count = (b: QueueBroker, tally: "published" | "acked", queue: string, id: string): number =>
  b[tally].get(queue)?.get(id) ?? 0;

export function verifyOutbox(broker: QueueBroker, tenant: Sqlite, now: number): Check {
  const c = check("tenant outbox: every recorded event published");
  const rows = tenant.rows(Row, "SELECT id, type, created_at, published_at, claimed_until FROM outbox");
  let leased = 0;
  let repeats = 0;
  for (const r of rows) {
    c.attempted++;
    if (r.published_at === null) {
      if (r.claimed_until !== null && r.claimed_until > now) leased++;
      else {
        c.lost++;
        fail(
          c,
          `outbox row ${r.id} (${r.type}, created ${new Date(r.created_at).toISOString()}) is unpublished and unclaimed after the drain`,
        );
      }
      continue;
    }
    c.acknowledged++;
    if (count(broker, "published", "canopy-notification", r.id) === 0) {
      c.lost++;
      fail(c, `outbox row ${r.id} (${r.type}) is marked published but never reached canopy-notification`);
    } else c.found++;
    if (count(broker, "published", "canopy-notification", r.id) > 1) repeats++;
  }
  c.notes.push(`still under a publisher's lease (pending): ${leased}; published more than once (allowed): ${repeats}`);
  return c;
}

export function verifyObjectEvents(
  broker: QueueBroker,
  logs: Map<string, LogEntry[]>,
  objects: { className: string; files: ObjectFile[] }[],
  doDir: string,
): Check {
  const c = check("Durable Object outboxes: one message.created per log entry, nothing unsent");
  const bySeq = new Map<string, Set<string>>();
  for (const e of broker.events.values()) {
    if (e.type !== "message.created") continue;
    const d = z.object({ conversationId: z.string(), seq: z.number() }).safeParse(e.data);
    if (!d.success) continue;
    const k = `${d.data.conversationId}#${d.data.seq}`;
    bySeq.set(k, new Set([...(bySeq.get(k) ?? []), e.id]));
  }
  const entries = new Set<string>();
  for (const [conversationId, log] of logs) {
    for (const e of log) {
      const k = `${conversationId}#${e.seq}`;
      entries.add(k);
      c.attempted++;
      const ids = bySeq.get(k)?.size ?? 0;
      if (ids === 1) c.found++;
      else if (ids === 0) {
        c.lost++;
        fail(c, `${conversationId} seq ${e.seq} (${e.messageId}) has no message.created event`);
      } else fail(c, `${conversationId} seq ${e.seq} was recorded as ${ids} events: ${[...bySeq.get(k)!].join(", ")}`);
    }
  }
  for (const k of bySeq.keys())
    if (!entries.has(k) && logs.has(k.split("#")[0]!)) fail(c, `message.created for ${k}, which the log does not have`);
  c.acknowledged = c.found;
  let heldSent = 0;
  for (const { className, files } of objects) {
    const scheduled = alarms(doDir, className);
    for (const f of files) {
      for (const row of objectOutbox(f)) {
        if (broker.events.has(row.id)) heldSent++;
        else if (scheduled.has(f.actorId))
          c.notes.push(
            `${className} ${f.actorId.slice(0, 12)}… holds unsent ${row.type} ${row.id}, alarm set (pending)`,
          );
        else fail(c, `${className} ${f.actorId} holds unsent ${row.type} ${row.id} with no alarm to send it`);
      }
    }
  }
  c.notes.push(
    `events from objects seen by the queues: ${[...broker.events.values()].filter((e) => /\/(users|conversations)\//.test(e.source)).length}; sent rows not yet deleted: ${heldSent}`,
  );
  return c;
}

/** What storage says the counters must be: each fact counted once. */
export interface GroundTruth {
  /** Messages (text) in the conversation logs. */
  messages: number;
  /** Accounts in the tenant DB. */
  registrations: number;
  /** Sessions ever opened, in the hubs' storage. */
  logins: number;
}

export function verifyConsumers(
  broker: QueueBroker,
  tenant: Sqlite,
  logs: Map<string, LogEntry[]>,
  truth: GroundTruth,
): Check {
  const c = check("consumers: every publication consumed, effects applied exactly once");
  const unconsumed: string[] = [];
  const stillQueued: string[] = [];
  for (const [queue, ids] of broker.published) {
    const held = broker.heldEventIds(queue);
    for (const [id, n] of ids) {
      c.attempted += n;
      const acked = count(broker, "acked", queue, id);
      c.acknowledged += acked;
      if (acked > 0 || queue === "canopy-dlq") continue;
      const what = `${queue} ${broker.events.get(id)?.type ?? "?"} ${id}`;
      // Published in the last moments (a Durable Object's alarm firing during the final drain)
      // and still in the queue when the run stopped: pending, not lost.
      (held.has(id) ? stillQueued : unconsumed).push(what);
    }
  }
  if (stillQueued.length)
    c.notes.push(
      `still queued when the run stopped (pending, not lost): ${stillQueued.length}, e.g. ${stillQueued.slice(0, 3).join("; ")}`,
    );
  // The totals first: the examples below are capped.
  const dlq = broker.published.get("canopy-dlq")?.size ?? 0;
  if (dlq || broker.figures.deadLettered) {
    const by = broker.deadLetteredBy;
    fail(
      c,
      `dead letters: ${broker.figures.deadLettered} messages moved to canopy-dlq after max_retries failed deliveries (${by.run} last failed with the whole consumer run, ${by.message} by their own retry), ${dlq} distinct events reached canopy-dlq in all; their effects never happened (replayable from the platform DB)`,
    );
  }
  const runs = broker.failedRuns;
  if (runs.length) {
    const span = `${new Date(runs[0]!.at).toISOString().slice(11, 19)}–${new Date(runs[runs.length - 1]!.at).toISOString().slice(11, 19)}`;
    c.notes.push(
      `consumer runs that threw (whole batch retried at once, every message's attempt count up): ${runs.length}, ${span}, outcomes ${describeCounts(countBy(runs, (r) => `${r.queue} ${r.outcome}`))}`,
    );
  }
  if (unconsumed.length)
    fail(
      c,
      `${unconsumed.length} publications were never consumed successfully, e.g. ${unconsumed.slice(0, 5).join("; ")}`,
    );
  const markers = new Set(
    tenant
      .rows(z.object({ event_id: z.string() }), "SELECT event_id FROM processed_events WHERE consumer = 'statistics'")
      .map((r) => r.event_id),
  );
  for (const id of broker.acked.get("canopy-statistics")?.keys() ?? []) {
    const e = broker.events.get(id);
    if (e && STATISTICS_MARKED.has(e.type) && !markers.has(id))
      fail(c, `statistics consumed ${e.type} ${id} but left no marker`);
  }
  const stats = new Map(
    tenant
      .rows(
        z.object({ metric: z.string(), n: z.number() }),
        "SELECT metric, sum(value) AS n FROM stats_daily GROUP BY metric",
      )
      .map((r) => [r.metric, r.n]),
  );
  for (const [metric, n] of Object.entries(truth)) {
    const got = stats.get(metric) ?? 0;
    c.found += Math.min(n, got);
    if (got !== n) {
      if (got < n) c.lost += n - got;
      fail(c, `stats_daily ${metric} = ${got}, but storage holds ${n} (each must be counted exactly once)`);
    }
  }
  const archived = tenant.rows(
    z.object({ conversation_id: z.string(), n: z.number() }),
    "SELECT conversation_id, count(*) AS n FROM archived_messages GROUP BY conversation_id",
  );
  for (const [conversationId, log] of logs) {
    const n = archived.find((a) => a.conversation_id === conversationId)?.n ?? 0;
    if (n !== log.length) fail(c, `archive of ${conversationId} holds ${n} entries, its log ${log.length}`);
  }
  c.notes.push(
    `queue sends ${broker.figures.sends}, consumer runs ${broker.figures.deliveries}, retried ${broker.figures.retries}, offered while workerd was down ${broker.figures.unreachable}`,
  );
  return c;
}

export function verifyAnnouncements(ops: AnnouncementOp[], tenant: Sqlite, users: User[]): Check {
  const c = check("announcements: one event each, an inbox entry for every user");
  c.attempted = ops.length;
  c.acknowledged = ops.filter((o) => o.status === 202).length;
  const rows = tenant.rows(z.object({ id: z.string(), title: z.string() }), "SELECT id, title FROM announcements");
  const events = tenant.rows(
    z.object({ id: z.string(), data: z.string() }),
    "SELECT id, data FROM outbox WHERE type = 'announcement.created'",
  );
  for (const op of ops.filter((o) => o.status === 202)) {
    if (rows.some((r) => r.title === op.title)) c.found++;
    else {
      c.lost++;
      fail(c, `acknowledged announcement "${op.title}" (${op.announcementId}) is not stored`);
    }
  }
  for (const r of rows) {
    const n = events.filter((e) => e.data.includes(`"${r.id}"`)).length;
    if (n !== 1)
      fail(c, `announcement ${r.id} has ${n} announcement.created outbox rows (half-applied write or double record)`);
    const inbox = new Set(
      tenant
        .rows(
          z.object({ user_id: z.string() }),
          "SELECT user_id FROM notifications WHERE id > ? AND id < ?",
          `${r.id}.`,
          `${r.id}/`,
        )
        .map((x) => x.user_id),
    );
    const missing = users.filter((u) => !inbox.has(u.userId));
    if (missing.length)
      fail(c, `announcement ${r.id}: no inbox entry for ${missing.map((u) => u.username).join(", ")}`);
  }
  const unanswered = ops.filter((o) => o.status !== 202);
  const storedAnyway = unanswered.filter((o) => rows.some((r) => r.title === o.title)).length;
  c.notes.push(
    `not acknowledged: ${unanswered.length} (${storedAnyway} stored anyway: no Idempotency-Key, so a client cannot tell)`,
  );
  return c;
}
