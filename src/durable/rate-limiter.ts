import { DurableObject } from "cloudflare:workers";
import { slidingWindow, type RateLimitResult } from "./sliding-window";
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
    const sql = this.ctx.storage.sql;
    const row = sql
      .exec<{ start: number; prev: number; curr: number }>("SELECT start, prev, curr FROM windows WHERE key = ?", key)
      .toArray()[0];
    const { result, next } = slidingWindow(row, limit, windowSeconds, cost, now);
    if (result.allowed && cost !== 0) {
      sql.exec(
        "INSERT INTO windows (key, start, prev, curr, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET start = excluded.start, prev = excluded.prev, curr = excluded.curr, expires_at = excluded.expires_at",
        key,
        next.start,
        next.prev,
        next.curr,
        next.start + 2 * windowSeconds * 1000,
      );
      if (++this.writes % PRUNE_EVERY === 0) this.prune(now);
    }
    return result;
  }

  /** Drops the rows whose windows have both passed (they would count as zero); answers how many. */
  prune(now = Date.now()): number {
    return this.ctx.storage.sql.exec("DELETE FROM windows WHERE expires_at <= ?", now).rowsWritten;
  }
}
