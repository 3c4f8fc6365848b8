import { DurableObject } from "cloudflare:workers";
import { migrateStorage, type DoMigration } from "./storage-migrations";

/** The verdict of one rate-limit check. */
export interface RateLimitResult {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window has room again (0 when allowed). */
  retryAfter: number;
  /** Seconds until the current window resets. */
  reset: number;
}

const migrations: readonly DoMigration[] = [
  (sql) => sql.exec("CREATE TABLE windows (key TEXT PRIMARY KEY, start INTEGER NOT NULL, prev INTEGER NOT NULL, curr INTEGER NOT NULL)"),
];

/**
 * Sliding-window rate limiter (the Cloudflare/Upstash approximation: the previous window's count
 * weighted by its remaining overlap plus the current window's count). One object per
 * tenant + subject + route class, named by the caller with the tenant prefix; counts persist
 * in SQLite so an eviction does not reset a limit.
 */
export class RateLimiter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      migrateStorage(ctx.storage, migrations);
    });
  }

  /** Counts `cost` against `key` if it fits under `limit` per `windowSeconds`. */
  check(key: string, limit: number, windowSeconds: number, cost = 1, now = Date.now()): RateLimitResult {
    const windowMs = windowSeconds * 1000;
    const start = Math.floor(now / windowMs) * windowMs;
    const sql = this.ctx.storage.sql;
    const row = sql.exec<{ start: number; prev: number; curr: number }>("SELECT start, prev, curr FROM windows WHERE key = ?", key).toArray()[0];
    let prev = 0;
    let curr = 0;
    if (row) {
      if (row.start === start) ({ prev, curr } = row);
      else if (row.start === start - windowMs) prev = row.curr;
    }
    const overlap = 1 - (now - start) / windowMs;
    const used = prev * overlap + curr;
    const reset = Math.ceil((start + windowMs - now) / 1000);
    if (used + cost > limit) {
      // Time until the weighted previous window has decayed enough to admit `cost`.
      const needed = used + cost - limit;
      const retryAfter = prev > 0 && curr + cost <= limit ? Math.ceil((needed / prev) * windowSeconds) : reset;
      return { allowed: false, limit, remaining: Math.max(0, Math.floor(limit - used)), retryAfter: Math.max(1, retryAfter), reset };
    }
    sql.exec(
      "INSERT INTO windows (key, start, prev, curr) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET start = excluded.start, prev = excluded.prev, curr = excluded.curr",
      key, start, prev, curr + cost,
    );
    return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - used - cost)), retryAfter: 0, reset };
  }
}
