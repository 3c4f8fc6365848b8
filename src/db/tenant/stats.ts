import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { TenantDb } from "../client";

/** drizzle view of the statistics tables (DDL: migrations/tenant/0007_statistics.sql). */
export const statsDaily = sqliteTable(
  "stats_daily",
  { day: text("day").notNull(), metric: text("metric").notNull(), value: integer("value").notNull() },
  (t) => [primaryKey({ columns: [t.day, t.metric] })],
);

export const activeUsers = sqliteTable(
  "active_users",
  { day: text("day").notNull(), userId: text("user_id").notNull() },
  (t) => [primaryKey({ columns: [t.day, t.userId] })],
);

/** The daily counters (metric names as stored). */
export const COUNTERS = [
  "registrations",
  "logins",
  "messages",
  "connections_opened",
  "connections_closed",
  "files_uploaded",
  "files_deleted",
  "bytes_uploaded",
  "bytes_deleted",
  "users_deleted",
  "posts",
  "comments",
  "likes",
  "views",
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counters = Record<Counter, number>;

export const zeroCounters = (): Counters => Object.fromEntries(COUNTERS.map((m) => [m, 0])) as Counters;

/** What one event adds to one UTC day: counter increments and, maybe, an active user. */
export interface Rollup {
  day: string;
  counters: Partial<Counters>;
  activeUser?: string | undefined;
}

/**
 * The statements of a rollup, for `applyOnce` (one transaction with the event's marker). Counters
 * are upserts that add, so concurrent consumers of the same day never lose an increment.
 */
export function rollupStatements(db: TenantDb, r: Rollup): BatchItem<"sqlite">[] {
  const out: BatchItem<"sqlite">[] = [];
  for (const [metric, delta] of Object.entries(r.counters)) {
    if (!delta) continue;
    out.push(
      db
        .insert(statsDaily)
        .values({ day: r.day, metric, value: delta })
        .onConflictDoUpdate({
          target: [statsDaily.day, statsDaily.metric],
          set: { value: sql`${statsDaily.value} + excluded.value` },
        }),
    );
  }
  if (r.activeUser) out.push(db.insert(activeUsers).values({ day: r.day, userId: r.activeUser }).onConflictDoNothing());
  return out;
}

export type Granularity = "day" | "week" | "month";

/**
 * The SQL expression naming a day's period: the day itself, the Monday of its ISO week, or the
 * first of its month. A fixed string per granularity (never user input), used with sql.raw.
 */
const PERIOD_OF_DAY: Record<Granularity, string> = {
  day: "day",
  // strftime('%w') is 0 on Sunday: (w + 6) % 7 is the number of days since Monday.
  week: "date(day, '-' || ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7) || ' days')",
  month: "substr(day, 1, 7) || '-01'",
};

/** Counter sums per period start and metric over [from, to] (days inclusive). */
export async function countersByPeriod(
  db: TenantDb,
  from: string,
  to: string,
  g: Granularity,
): Promise<{ period: string; metric: string; value: number }[]> {
  return db.all(sql`
    SELECT ${sql.raw(PERIOD_OF_DAY[g])} AS period, metric, sum(value) AS value FROM stats_daily
    WHERE day BETWEEN ${from} AND ${to} GROUP BY 1, 2`);
}

/** Distinct active users per period start over [from, to]. */
export async function activeByPeriod(
  db: TenantDb,
  from: string,
  to: string,
  g: Granularity,
): Promise<{ period: string; n: number }[]> {
  return db.all(sql`
    SELECT ${sql.raw(PERIOD_OF_DAY[g])} AS period, count(DISTINCT user_id) AS n FROM active_users
    WHERE day BETWEEN ${from} AND ${to} GROUP BY 1`);
}

/** Distinct users active at least once in each of the given inclusive day ranges. */
export async function distinctActive(db: TenantDb, ranges: [from: string, to: string][]): Promise<number[]> {
  if (!ranges.length) return [];
  const columns = sql.join(
    ranges.map(
      ([from, to], i) =>
        sql`(SELECT count(DISTINCT user_id) FROM active_users WHERE day BETWEEN ${from} AND ${to}) AS ${sql.raw(`r${i}`)}`,
    ),
    sql`, `,
  );
  const [row] = await db.all<Record<string, number>>(sql`SELECT ${columns}`);
  return ranges.map((_, i) => Number(row?.[`r${i}`] ?? 0));
}

/** Every counter summed over all days before `day` (exclusive): the base of the running gauges. */
export async function countersBefore(db: TenantDb, day: string): Promise<Counters> {
  const rows = await db.all<{ metric: string; value: number }>(
    sql`SELECT metric, sum(value) AS value FROM stats_daily WHERE day < ${day} GROUP BY metric`,
  );
  return addRows(zeroCounters(), rows);
}

/** Every counter summed over [from, to]. */
export async function countersBetween(db: TenantDb, from: string, to: string): Promise<Counters> {
  const rows = await db.all<{ metric: string; value: number }>(
    sql`SELECT metric, sum(value) AS value FROM stats_daily WHERE day BETWEEN ${from} AND ${to} GROUP BY metric`,
  );
  return addRows(zeroCounters(), rows);
}

/** Adds `{metric, value}` rows into counters; metrics this code does not know are ignored. */
export function addRows(into: Counters, rows: { metric: string; value: number }[]): Counters {
  for (const r of rows)
    if ((COUNTERS as readonly string[]).includes(r.metric)) into[r.metric as Counter] += Number(r.value);
  return into;
}
