import { DurableObject } from "cloudflare:workers";
import { slidingWindow, type RateCheck, type RateLimitResult, type WindowState } from "./sliding-window";
import { migrateStorage, type DoMigration } from "./storage-migrations";

export type { RateLimitResult } from "./sliding-window";

const migrations: readonly DoMigration[] = [
  (sql) =>
    sql.exec(
      "CREATE TABLE windows (key TEXT PRIMARY KEY, start INTEGER NOT NULL, prev INTEGER NOT NULL, curr INTEGER NOT NULL)",
    ),
  // An object holds many keys (one shard of a tenant's, see rate-limit.ts): rows past their
  // second window count for nothing and are pruned by this column.
  (sql) => {
    sql.exec("ALTER TABLE windows ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0");
    sql.exec("CREATE INDEX windows_expiry ON windows (expires_at)");
  },
];

/** Every this many writes, the object drops the rows that count for nothing any more. */
const PRUNE_EVERY = 256;

/** How long a hold lasts unsettled before it counts as spent: far longer than any sign-in takes. */
const HOLD_MS = 60_000;

interface Hold {
  checks: readonly RateCheck[];
  until: number;
}

/** Rows the object keeps in memory besides its storage (a few hundred KB at most). */
const CACHED_ROWS = 4096;

/**
 * How long a route limit's count ({@link RateLimiter.count}) may stay unwritten: its rows are
 * written together, in one storage commit per this interval instead of one per request.
 */
export const WRITE_BEHIND_MS = 5_000;

/**
 * Sliding-window rate limiter (the Cloudflare/Upstash approximation: the previous window's count
 * weighted by its remaining overlap plus the current window's count). One object holds the keys
 * of one shard of a tenant (the store names it, rate-limit.ts); each key's counts are a row of its
 * SQLite storage, so an eviction does not reset a limit, and a check is atomic per key because the
 * object runs one call at a time.
 *
 * Reads come from memory: the object is the only writer of its storage, so a copy of the rows it
 * wrote or read stays true. While every row fits in {@link CACHED_ROWS}, the copy is complete and
 * a key it lacks has no row (no read at all); past that, the oldest entries are dropped and a key
 * the copy lacks is read from storage.
 *
 * Writes: a {@link check} and a settled hold commit before the call answers (the sign-in
 * throttle's failures among them); a {@link count} (the gateway's route limits) is written behind,
 * with the other counts of the last {@link WRITE_BEHIND_MS} in one commit, so an object that
 * crashes forgets at most those last seconds of route counts. Every commit writes every row
 * waiting, and a waiting row is never dropped from memory unwritten.
 */
export class RateLimiter extends DurableObject<Env> {
  private writes = 0;
  private readonly rows = new Map<string, WindowState & { expiresAt: number }>();
  /** Whether {@link rows} holds every row of the table. */
  private complete = false;
  /** Units held by unsettled holds, per key (see {@link hold}); lost with the instance. */
  private readonly held = new Map<string, number>();
  private readonly holds = new Map<string, Hold>();
  /** Rows changed in memory and not yet written (see {@link count}). */
  private readonly dirty = new Set<string>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      migrateStorage(ctx.storage, migrations);
      const all = ctx.storage.sql
        .exec<{ key: string; start: number; prev: number; curr: number; expires_at: number }>(
          "SELECT key, start, prev, curr, expires_at FROM windows LIMIT ?",
          CACHED_ROWS + 1,
        )
        .toArray();
      if (all.length > CACHED_ROWS) return;
      for (const r of all)
        this.rows.set(r.key, { start: r.start, prev: r.prev, curr: r.curr, expiresAt: r.expires_at });
      this.complete = true;
    });
  }

  /** Counts `cost` against `key` if it fits under `limit` per `windowSeconds`; a negative cost hands units back. */
  check(key: string, limit: number, windowSeconds: number, cost = 1, now = Date.now()): RateLimitResult {
    return this.take(key, limit, windowSeconds, cost, now, true);
  }

  /**
   * One unit against `key`, like `check(key, limit, windowSeconds)`, written behind: the answer
   * does not wait for storage (see the class comment for what a crash forgets).
   */
  count(key: string, limit: number, windowSeconds: number, now = Date.now()): RateLimitResult {
    return this.take(key, limit, windowSeconds, 1, now, false);
  }

  private take(key: string, limit: number, windowSeconds: number, cost: number, now: number, durable: boolean) {
    const state = this.read(key);
    const { result, next } = slidingWindow(state, limit, windowSeconds, cost, now);
    const held = this.held.get(key);
    // Held units (see hold) count like written ones; what is written is this call's own cost.
    const verdict = held && cost >= 0 ? slidingWindow(state, limit, windowSeconds, held + cost, now).result : result;
    if (verdict.allowed && cost !== 0) this.write(key, next, windowSeconds, now, durable);
    return verdict;
  }

  /**
   * Takes `cost` units from every check's key, all or nothing, and holds them in memory rather
   * than writing them (RateLimitStore.reserve): held units count against their keys like written
   * ones until {@link settle} says which were spent. A key named twice is judged with the first
   * check's units taken. Answers the verdicts and, when every check fits, the ticket to settle.
   */
  hold(checks: readonly RateCheck[], now = Date.now()): { results: RateLimitResult[]; ticket: string | null } {
    this.expireHolds(now);
    const batch = new Map<string, number>();
    const results = checks.map(({ key, limit, windowSeconds, cost }) => {
      if (!(Number.isInteger(cost) && cost > 0)) throw new RangeError(`rate limit: a hold takes units, got ${cost}`);
      const taken = (this.held.get(key) ?? 0) + (batch.get(key) ?? 0);
      const { result } = slidingWindow(this.read(key), limit, windowSeconds, taken + cost, now);
      if (result.allowed) batch.set(key, (batch.get(key) ?? 0) + cost);
      return result;
    });
    if (results.some((r) => !r.allowed)) return { results, ticket: null };
    for (const [key, n] of batch) this.held.set(key, (this.held.get(key) ?? 0) + n);
    const ticket = crypto.randomUUID();
    this.holds.set(ticket, { checks, until: now + HOLD_MS });
    return { results, ticket };
  }

  /**
   * Ends a hold: the units of the `spent` keys are written (counted), the others handed back. A
   * ticket this instance does not know (settled, expired, or held before an eviction) is ignored.
   */
  settle(ticket: string, spent: readonly string[], now = Date.now()): void {
    this.expireHolds(now);
    const hold = this.holds.get(ticket);
    if (hold) this.release(ticket, hold, (key) => spent.includes(key), now);
  }

  /** An attempt that never settled counts as spent (as a crash after a written check would). */
  private expireHolds(now: number): void {
    for (const [ticket, hold] of this.holds) if (hold.until <= now) this.release(ticket, hold, () => true, now);
  }

  private release(ticket: string, hold: Hold, spent: (key: string) => boolean, now: number): void {
    this.holds.delete(ticket);
    for (const { key, windowSeconds, cost } of hold.checks) {
      const left = (this.held.get(key) ?? 0) - cost;
      if (left > 0) this.held.set(key, left);
      else this.held.delete(key);
      if (spent(key))
        this.write(
          key,
          slidingWindow(this.read(key), Infinity, windowSeconds, cost, now).next,
          windowSeconds,
          now,
          true,
        );
    }
  }

  private read(key: string): WindowState | undefined {
    const cached = this.rows.get(key);
    if (cached || this.complete) return cached;
    const row = this.ctx.storage.sql
      .exec<{ start: number; prev: number; curr: number; expires_at: number }>(
        "SELECT start, prev, curr, expires_at FROM windows WHERE key = ?",
        key,
      )
      .toArray()[0];
    if (row) this.remember(key, { start: row.start, prev: row.prev, curr: row.curr, expiresAt: row.expires_at });
    return row;
  }

  /** Changes a row in memory; written before the call answers when `durable`, else within WRITE_BEHIND_MS. */
  private write(key: string, next: WindowState, windowSeconds: number, now: number, durable: boolean): void {
    this.remember(key, { ...next, expiresAt: next.start + 2 * windowSeconds * 1000 });
    this.dirty.add(key);
    if (durable) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flushBehind(), WRITE_BEHIND_MS);
    if (++this.writes % PRUNE_EVERY === 0) this.prune(now);
  }

  /** The timer's flush: a failed write is logged and tried again later (the rows stay waiting). */
  private flushBehind(): void {
    this.flushTimer = null;
    try {
      this.flush();
    } catch (err) {
      console.error(JSON.stringify({ msg: "rate limiter write-behind failed; retrying", error: String(err) }));
      this.flushTimer ??= setTimeout(() => this.flushBehind(), WRITE_BEHIND_MS);
    }
  }

  /** Writes every waiting row in one commit; when it throws, the rows stay waiting. */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.dirty.size) return;
    const keys = [...this.dirty];
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const key of keys) {
        const row = this.rows.get(key);
        if (!row) continue; // pruned: its windows have passed
        sql.exec(
          "INSERT INTO windows (key, start, prev, curr, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET start = excluded.start, prev = excluded.prev, curr = excluded.curr, expires_at = excluded.expires_at",
          key,
          row.start,
          row.prev,
          row.curr,
          row.expiresAt,
        );
      }
    });
    for (const key of keys) this.dirty.delete(key);
  }

  private remember(key: string, row: WindowState & { expiresAt: number }): void {
    this.rows.delete(key); // re-inserted last: the oldest entry is the least recently written
    this.rows.set(key, row);
    if (this.rows.size <= CACHED_ROWS) return;
    const oldest = this.rows.keys().next().value!;
    if (this.dirty.has(oldest)) this.flush(); // written before it leaves memory
    this.rows.delete(oldest);
    this.complete = false;
  }

  /** Drops the rows whose windows have both passed (they would count as zero); answers how many. */
  prune(now = Date.now()): number {
    for (const [key, row] of this.rows) if (row.expiresAt <= now) this.rows.delete(key);
    return this.ctx.storage.sql.exec("DELETE FROM windows WHERE expires_at <= ?", now).rowsWritten;
  }
}
