/**
 * Hrana streams over HTTP: batons, lock ownership and idle expiry.
 *
 * A stream is created by a pipeline request without a baton and lives on as long as the client
 * keeps presenting the baton it got last (each response carries a fresh random baton; the old one
 * dies, so replays and parallel use fail like sqld's baton sequence check). A baton belongs to
 * one namespace and is unknown everywhere else.
 *
 * Lock ownership: a request takes its namespace's FIFO lock for its duration. If the connection is
 * left inside a transaction, the stream keeps the lock between requests, so other streams queue
 * instead of seeing uncommitted data or getting SQLITE_BUSY. The lock is freed by COMMIT/ROLLBACK,
 * `close`, or the idle timeout (which rolls the transaction back), whichever comes first.
 */
import { randomBytes } from "node:crypto";
import type { NamespaceDb } from "./database.js";
import { HttpError, streamExpired } from "./errors.js";

/** Server-side state of one Hrana stream. */
export interface Stream {
  readonly db: NamespaceDb;
  /** SQL texts stored with `store_sql`. */
  readonly sqls: Map<number, string>;
  /** The client sent `close`: the stream ends with this request. */
  closed: boolean;
  /** The stream holds `db.lock` between requests (an interactive transaction is open). */
  ownsLock: boolean;
  baton: string | null;
  timer: NodeJS.Timeout | null;
}

/** Registry of the live streams of all namespaces. */
export class StreamManager {
  private readonly byBaton = new Map<string, Stream>();
  private readonly live = new Set<Stream>();

  constructor(private readonly idleTimeoutMs: number) {}

  /** A new stream on `db` (pipeline request without a baton). */
  open(db: NamespaceDb): Stream {
    const stream: Stream = { db, sqls: new Map(), closed: false, ownsLock: false, baton: null, timer: null };
    this.live.add(stream);
    return stream;
  }

  /**
   * Claim the stream a baton refers to, for one request. The baton is consumed: the response will
   * carry a new one. Unknown, reused, expired or foreign batons → HTTP 400 STREAM_EXPIRED.
   */
  take(baton: string, db: NamespaceDb): Stream {
    const stream = this.byBaton.get(baton);
    if (stream === undefined || stream.db !== db || !db.isOpen) throw streamExpired();
    this.byBaton.delete(baton);
    stream.baton = null;
    if (stream.timer !== null) clearTimeout(stream.timer);
    stream.timer = null;
    return stream;
  }

  /** Wait until the stream may use its connection (no-op if it already owns the lock). */
  async enter(stream: Stream): Promise<void> {
    if (stream.ownsLock) return;
    const gone = () => new HttpError(404, "NAMESPACE_NOT_FOUND", `Namespace \`${stream.db.name}\` doesn't exist`);
    try {
      // The namespace may have been deleted while this request's body was being read.
      if (!stream.db.isOpen) throw gone();
      await stream.db.lock.acquire();
      if (!stream.db.isOpen) throw gone();
    } catch (err) {
      this.live.delete(stream);
      throw err;
    }
  }

  /**
   * End a request on the stream. Returns the baton for the next request, or null when the stream
   * is finished (`close`, or `abort` after a failed request), in which case an open transaction is
   * rolled back, as dropping a connection does in sqld.
   */
  leave(stream: Stream, abort = false): string | null {
    const { db } = stream;
    // The stream is inside a request here, so it holds the lock whatever `ownsLock` says.
    if (stream.closed || abort || !db.isOpen) {
      db.rollbackIfNeeded();
      db.resetSession();
      this.unlock(stream);
      this.forget(stream);
      return null;
    }
    if (db.isAutocommit) this.unlock(stream);
    else stream.ownsLock = true;
    const baton = randomBytes(24).toString("base64url");
    stream.baton = baton;
    this.byBaton.set(baton, stream);
    stream.timer = setTimeout(() => this.expire(stream), this.idleTimeoutMs);
    // An idle stream must not keep the process (or a test run) alive.
    stream.timer.unref();
    return baton;
  }

  /** Forget every stream of a namespace whose database is closing (its connection rolls back). */
  dropDatabase(db: NamespaceDb): void {
    for (const stream of [...this.live]) {
      if (stream.db !== db) continue;
      this.forget(stream);
      stream.ownsLock = false;
    }
  }

  /** Forget all streams (server shutdown); the caller closes the databases. */
  closeAll(): void {
    for (const stream of [...this.live]) this.forget(stream);
  }

  private expire(stream: Stream): void {
    stream.timer = null;
    if (stream.ownsLock) {
      // An abandoned transaction: roll it back and let the queued streams in.
      stream.db.rollbackIfNeeded();
      stream.db.resetSession();
      this.unlock(stream);
    }
    this.forget(stream);
  }

  /** Release the namespace lock held for this stream's request or transaction. */
  private unlock(stream: Stream): void {
    stream.ownsLock = false;
    stream.db.lock.release();
  }

  private forget(stream: Stream): void {
    if (stream.timer !== null) clearTimeout(stream.timer);
    stream.timer = null;
    if (stream.baton !== null) this.byBaton.delete(stream.baton);
    stream.baton = null;
    this.live.delete(stream);
  }
}
