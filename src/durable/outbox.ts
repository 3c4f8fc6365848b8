import { publishEvents, toCloudEvent, type OutboxEvent } from "../lib/events";
import { newId } from "../lib/ids";
import type { DoMigration } from "./storage-migrations";

/** The outbox table of a Durable Object's storage (written in the same storage transaction as the change). */
export const OUTBOX_TABLE_SQL = `CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT NOT NULL, subject TEXT, data TEXT NOT NULL,
  traceparent TEXT, created_at INTEGER NOT NULL, published_at INTEGER)`;

/**
 * Published rows are deleted (see OUTBOX_DELETE_AFTER_MS): the table holds little more than what is still to send, so the
 * publisher's reads stay small however busy the object is (the queues and the DLQ are where
 * sent events can be inspected). Objects created before this deleted their old published rows
 * in a storage migration (`OUTBOX_PUBLISHED_CLEANUP`).
 */
export const OUTBOX_PUBLISHED_CLEANUP: DoMigration = (sql) => {
  sql.exec("DELETE FROM events WHERE published_at IS NOT NULL");
};
/**
 * Events recorded within this long go out in one send. It keeps the queue send and the
 * `published_at` write (a second storage commit) off the path of each message, and costs the
 * consumers (push, archive, statistics, webhooks) at most this much latency.
 */
export const OUTBOX_COALESCE_MS = 50;
/**
 * Published rows are deleted with the object's next write (in its commit, at no cost of its own)
 * or, when nothing else is written, this long after publishing (one commit for all of them).
 */
export const OUTBOX_DELETE_AFTER_MS = 1_000;
/** A failed publish is retried by the object's alarm after this long. */
export const OUTBOX_RETRY_MS = 30_000;

/** Sets an object's one alarm to `at` unless it is already due sooner (outbox retries, graph retries and presence share it). */
export const alarmBy =
  (storage: DurableObjectStorage) =>
  async (at: number): Promise<void> => {
    const current = await storage.getAlarm();
    if (current === null || current > at) await storage.setAlarm(at);
  };

export interface NewEvent {
  type: string;
  subject?: string | undefined;
  data: Record<string, unknown>;
  traceparent?: string | undefined;
}

interface Row extends Record<string, SqlStorageValue> {
  id: string;
  type: string;
  subject: string | null;
  data: string;
  traceparent: string | null;
  created_at: number;
}

/**
 * The transactional outbox of a Durable Object. `record` is a synchronous SQL write, so it
 * commits with whatever else the calling method wrote (the output gate holds the reply until
 * storage is durable). `publish` sends what is unpublished to the queues, and the rows are
 * deleted with the next write (OUTBOX_DELETE_AFTER_MS); if sending fails, the object's alarm
 * calls it again. Recording also keeps an alarm set OUTBOX_RETRY_MS
 * ahead (written at most once per that interval), so a crash between a commit and its publish
 * delays events but never loses them.
 * One publish runs at a time per object, which keeps it from sending a row twice itself.
 */
export class DurableOutbox {
  private running: Promise<boolean> | null = null;
  private again = false;

  private scheduled = false;
  /** Until when the backstop alarm set by `record` covers this object (in memory: a new instance sets it again). */
  private backstopUntil = 0;
  /**
   * Published, not yet deleted (see OUTBOX_DELETE_AFTER_MS). Lost with the instance, in which
   * case the rows are published again: delivery is at least once, consumers are idempotent.
   */
  private readonly sent = new Set<string>();
  private deleteTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    /** Tenant and CloudEvents `source` of this object; null before the object knows who it is. */
    private readonly identity: () => { tenantId: string; source: string } | null,
    private readonly scheduleRetry: (at: number) => Promise<void>,
  ) {}

  /**
   * Writes an event and schedules its publication OUTBOX_COALESCE_MS later, after the current
   * synchronous work (and so any transactionSync around this call) is done: every record of
   * that window goes out in one send.
   */
  record(e: NewEvent, now = Date.now()): string {
    const id = newId(now);
    this.deleteSent();
    this.ctx.storage.sql.exec(
      "INSERT INTO events (id, type, subject, data, traceparent, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      e.type,
      e.subject ?? null,
      JSON.stringify(e.data),
      e.traceparent ?? null,
      now,
    );
    if (now >= this.backstopUntil) {
      this.backstopUntil = now + OUTBOX_RETRY_MS;
      this.scheduleRetry(this.backstopUntil).catch(() => {
        this.backstopUntil = 0;
      });
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        this.ctx.waitUntil(
          this.publish().then(
            () => undefined,
            () => undefined,
          ),
        );
      }, OUTBOX_COALESCE_MS);
    }
    return id;
  }

  /** Sends every unpublished event; true when nothing is left. Safe to call concurrently. */
  publish(): Promise<boolean> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  pending(): number {
    return (
      this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE published_at IS NULL").one().n -
      this.sent.size
    );
  }

  /** Deletes the rows already published (called inside a write that commits anyway, or by the timer). */
  private deleteSent(): void {
    if (this.deleteTimer) {
      clearTimeout(this.deleteTimer);
      this.deleteTimer = null;
    }
    if (!this.sent.size) return;
    const ids = [...this.sent];
    this.sent.clear();
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      this.ctx.storage.sql.exec(`DELETE FROM events WHERE id IN (${chunk.map(() => "?").join(",")})`, ...chunk);
    }
  }

  private async drain(): Promise<boolean> {
    const who = this.identity();
    if (!who) return this.pending() === 0;
    do {
      this.again = false;
      const rows = this.ctx.storage.sql
        .exec<Row>(
          "SELECT id, type, subject, data, traceparent, created_at FROM events WHERE published_at IS NULL ORDER BY id LIMIT ?",
          100 + this.sent.size,
        )
        .toArray()
        .filter((r) => !this.sent.has(r.id))
        .slice(0, 100);
      if (!rows.length) break;
      const events = rows.map(
        (r): OutboxEvent => ({
          id: r.id,
          type: r.type,
          subject: r.subject,
          data: JSON.parse(r.data) as Record<string, unknown>,
          time: r.created_at,
          traceparent: r.traceparent,
        }),
      );
      try {
        await publishEvents(
          this.env,
          events.map((e) => toCloudEvent(who.tenantId, who.source, e)),
        );
      } catch (err) {
        console.warn(
          JSON.stringify({
            msg: "durable outbox publish failed; alarm retries",
            source: who.source,
            error: String(err),
          }),
        );
        await this.scheduleRetry(Date.now() + OUTBOX_RETRY_MS);
        return false;
      }
      for (const r of rows) this.sent.add(r.id);
      this.deleteTimer ??= setTimeout(() => this.deleteSent(), OUTBOX_DELETE_AFTER_MS);
      if (rows.length === 100) this.again = true;
    } while (this.again);
    return true;
  }
}
