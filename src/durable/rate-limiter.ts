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

/**
 * Sliding-window rate limiter (the Cloudflare/Upstash approximation: the previous window's count
 * weighted by its remaining overlap plus the current window's count). One object holds the keys
 * of one shard of a tenant (the store names it, rate-limit.ts); each key's counts are a row of its
 * SQLite storage, so an eviction does not reset a limit, and a check is atomic per key because the
 * object runs one call at a time.
 */
export class RateLimiter extends DurableObject<Env> {
  private writes = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      migrateStorage(ctx.storage, migrations);
    });
  }

  /** Counts `cost` against `key` if it fits under `limit` per `windowSeconds`; a negative cost hands units back. */
  check(key: string, limit: number, windowSeconds: number, cost = 1, now = Date.now()): RateLimitResult {
    const { result, next } = slidingWindow(this.read(key), limit, windowSeconds, cost, now);
    if (result.allowed && cost !== 0) this.write(key, next, windowSeconds, now);
    return result;
  }

  /**
   * Several checks in one call, all or nothing (RateLimitStore.checkAll): each is judged against
   * the counts the checks before it in the batch left, and only when every one fits are they
   * written. The object runs one call at a time, so the batch is atomic.
   */
  checkAll(checks: readonly RateCheck[], now = Date.now()): RateLimitResult[] {
    const pending = new Map<string, { next: WindowState; windowSeconds: number }>();
    let refused = false;
    const results = checks.map(({ key, limit, windowSeconds, cost }) => {
      const { result, next } = slidingWindow(pending.get(key)?.next ?? this.read(key), limit, windowSeconds, cost, now);
      if (!result.allowed) refused = true;
      else if (cost !== 0) pending.set(key, { next, windowSeconds });
      return result;
    });
    if (!refused) for (const [key, p] of pending) this.write(key, p.next, p.windowSeconds, now);
    return results;
  }

  private read(key: string): WindowState | undefined {
    return this.ctx.storage.sql
      .exec<{ start: number; prev: number; curr: number }>("SELECT start, prev, curr FROM windows WHERE key = ?", key)
      .toArray()[0];
  }

  private write(key: string, next: WindowState, windowSeconds: number, now: number): void {
    this.ctx.storage.sql.exec(
      "INSERT INTO windows (key, start, prev, curr, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET start = excluded.start, prev = excluded.prev, curr = excluded.curr, expires_at = excluded.expires_at",
      key,
      next.start,
      next.prev,
      next.curr,
      next.start + 2 * windowSeconds * 1000,
    );
    if (++this.writes % PRUNE_EVERY === 0) this.prune(now);
  }

  /** Drops the rows whose windows have both passed (they would count as zero); answers how many. */
  prune(now = Date.now()): number {
    return this.ctx.storage.sql.exec("DELETE FROM windows WHERE expires_at <= ?", now).rowsWritten;
  }
}
