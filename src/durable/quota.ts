import { DurableObject } from "cloudflare:workers";
import { migrateStorage, type DoMigration } from "./storage-migrations";

export interface QuotaResult {
  allowed: boolean;
  used: number;
  limit: number;
  /** Start of the next period (epoch ms), when the counter resets. */
  resetsAt: number;
}

const migrations: readonly DoMigration[] = [
  (sql) =>
    sql.exec(
      "CREATE TABLE usage (metric TEXT NOT NULL, period INTEGER NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (metric, period))",
    ),
];

/**
 * Metered usage counters (AI calls, tokens, storage) for one tenant or one user, named with the
 * tenant prefix. A consume is all-or-nothing and single-threaded per object, so concurrent
 * callers can never overspend a limit.
 */
export class Quota extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      migrateStorage(ctx.storage, migrations);
    });
  }

  /** Spends `amount` of `metric` in the period of `periodMs` containing `now`, if it stays within `limit`. */
  consume(metric: string, amount: number, limit: number, periodMs: number, now = Date.now()): QuotaResult {
    const period = Math.floor(now / periodMs) * periodMs;
    const sql = this.ctx.storage.sql;
    const used =
      sql.exec<{ used: number }>("SELECT used FROM usage WHERE metric = ? AND period = ?", metric, period).toArray()[0]
        ?.used ?? 0;
    const resetsAt = period + periodMs;
    if (amount < 0 || used + amount > limit) return { allowed: false, used, limit, resetsAt };
    sql.exec(
      "INSERT INTO usage (metric, period, used) VALUES (?, ?, ?) ON CONFLICT (metric, period) DO UPDATE SET used = excluded.used",
      metric,
      period,
      used + amount,
    );
    // Old periods are history nobody reads: keep the table small.
    sql.exec("DELETE FROM usage WHERE metric = ? AND period < ?", metric, period - 31 * 24 * 3600 * 1000);
    return { allowed: true, used: used + amount, limit, resetsAt };
  }

  /** Current usage without spending. */
  peek(metric: string, periodMs: number, now = Date.now()): number {
    const period = Math.floor(now / periodMs) * periodMs;
    return (
      this.ctx.storage.sql
        .exec<{ used: number }>("SELECT used FROM usage WHERE metric = ? AND period = ?", metric, period)
        .toArray()[0]?.used ?? 0
    );
  }
}
