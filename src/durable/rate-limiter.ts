import { DurableObject } from "cloudflare:workers";
import { slidingWindow, type RateLimitResult } from "./sliding-window";
import { migrateStorage, type DoMigration } from "./storage-migrations";

export type { RateLimitResult } from "./sliding-window";

const migrations: readonly DoMigration[] = [
  (sql) =>
    sql.exec(
      "CREATE TABLE windows (key TEXT PRIMARY KEY, start INTEGER NOT NULL, prev INTEGER NOT NULL, curr INTEGER NOT NULL)",
    ),
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

  /** Counts `cost` against `key` if it fits under `limit` per `windowSeconds`; a negative cost hands units back. */
  check(key: string, limit: number, windowSeconds: number, cost = 1, now = Date.now()): RateLimitResult {
    const sql = this.ctx.storage.sql;
    const row = sql
      .exec<{ start: number; prev: number; curr: number }>("SELECT start, prev, curr FROM windows WHERE key = ?", key)
      .toArray()[0];
    const { result, next } = slidingWindow(row, limit, windowSeconds, cost, now);
    if (result.allowed && cost !== 0) {
      sql.exec(
        "INSERT INTO windows (key, start, prev, curr) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET start = excluded.start, prev = excluded.prev, curr = excluded.curr",
        key,
        next.start,
        next.prev,
        next.curr,
      );
    }
    return result;
  }
}
