import type { TenantDb } from "../../db/client";
import {
  activeByPeriod,
  addRows,
  countersBefore,
  countersByPeriod,
  distinctActive,
  zeroCounters,
  type Counters,
  type Granularity,
} from "../../db/tenant/stats";
import { AppError } from "../../lib/errors";
import { type CommerceFigures, commerceFigures } from "./commerce";
import { addDays, assertSupportedDay, dayOf, daysInRange, periodsOf } from "./periods";
import type { StatsReport, UsageFigures } from "./schemas";

/** Longest range per granularity, in days (bounds the work of one request). */
export const MAX_DAYS: Record<Granularity, number> = { day: 366, week: 731, month: 1827 };
/** Days in the default range (ending today) and in the WAU/MAU windows. */
const DEFAULT_DAYS = 30;
const WEEK = 7;
const MONTH = 30;

export interface StatsRange {
  from: string;
  to: string;
  granularity: Granularity;
}

/**
 * Fills defaults (the 30 days ending today, UTC) and enforces the supported days
 * (FIRST_DAY … LAST_DAY), from ≤ to and the range limit: 400 `invalid_range` otherwise.
 */
export function resolveRange(
  q: { from?: string | undefined; to?: string | undefined; granularity?: Granularity | undefined },
  now = Date.now(),
): StatsRange {
  const granularity = q.granularity ?? "day";
  if (q.to) assertSupportedDay("to", q.to);
  if (q.from) assertSupportedDay("from", q.from);
  const to = q.to ?? dayOf(now);
  const from = q.from ?? addDays(to, -(DEFAULT_DAYS - 1));
  assertSupportedDay("from", from);
  assertSupportedDay("to", to);
  if (from > to) throw new AppError("invalid_range", `from (${from}) must be on or before to (${to}).`);
  const max = MAX_DAYS[granularity];
  if (daysInRange(from, to) > max) {
    throw new AppError(
      "invalid_range",
      `The range spans ${daysInRange(from, to)} days; at most ${max} with granularity=${granularity}.`,
    );
  }
  return { from, to, granularity };
}

type MetricRow = { metric: string; value: number };

const flows = (c: Counters, activeUsers: number, money: CommerceFigures) => ({
  registrations: c.registrations,
  logins: c.logins,
  messages: c.messages,
  connections: c.connections_opened,
  filesUploaded: c.files_uploaded,
  filesDeleted: c.files_deleted,
  bytesUploaded: c.bytes_uploaded,
  bytesDeleted: c.bytes_deleted,
  deletedUsers: c.users_deleted,
  posts: c.posts,
  comments: c.comments,
  likes: c.likes,
  views: c.views,
  activeUsers,
  ...money,
});

// Levels never show below zero: an "out" event may be counted before its "in" (different
// batches), or its "in" predates statistics (a file uploaded before the feature existed).
const stocks = (running: Counters) => ({
  totalUsers: Math.max(0, running.registrations - running.users_deleted),
  activeConnections: Math.max(0, running.connections_opened - running.connections_closed),
  filesStored: Math.max(0, running.files_uploaded - running.files_deleted),
  bytesStored: Math.max(0, running.bytes_uploaded - running.bytes_deleted),
});

/** The DAU/WAU/MAU windows ending `day`, plus any extra ranges, as distinct counts. */
async function activeWindows(db: TenantDb, day: string, extra: [string, string][] = []) {
  const [dau = 0, wau = 0, mau = 0, ...rest] = await distinctActive(db, [
    [day, day],
    [addDays(day, -(WEEK - 1)), day],
    [addDays(day, -(MONTH - 1)), day],
    ...extra,
  ]);
  return { dau, wau, mau, rest };
}

/** The tenant admin's report: a series per period, totals over the range, levels as of `to`. */
export async function statsReport(db: TenantDb, r: StatsRange): Promise<StatsReport> {
  const [counterRows, activeRows, base, windows] = await Promise.all([
    countersByPeriod(db, r.from, r.to, r.granularity),
    activeByPeriod(db, r.from, r.to, r.granularity),
    countersBefore(db, r.from),
    activeWindows(db, r.to, [[r.from, r.to]]),
  ]);
  const perPeriod = new Map<string, MetricRow[]>();
  for (const row of counterRows) perPeriod.set(row.period, [...(perPeriod.get(row.period) ?? []), row]);
  const active = new Map(activeRows.map((a) => [a.period, Number(a.n)]));
  const running = { ...base };
  const total = zeroCounters();
  const series = periodsOf(r.from, r.to, r.granularity).map((p) => {
    const rows = perPeriod.get(p.key) ?? [];
    const c = addRows(zeroCounters(), rows);
    for (const k of Object.keys(c) as (keyof Counters)[]) {
      running[k] += c[k];
      total[k] += c[k];
    }
    return {
      period: p.label,
      start: p.start,
      end: p.end,
      ...flows(c, active.get(p.key) ?? 0, commerceFigures(rows)),
      ...stocks(running),
    };
  });
  return {
    from: r.from,
    to: r.to,
    granularity: r.granularity,
    timeZone: "UTC",
    series,
    totals: flows(total, windows.rest[0] ?? 0, commerceFigures(counterRows)),
    gauges: { asOf: r.to, ...stocks(running), dau: windows.dau, wau: windows.wau, mau: windows.mau },
  };
}

/** The platform admin's figures of one tenant: sums over [from, to] and levels as of `to`. */
export async function usageFigures(db: TenantDb, from: string, to: string): Promise<UsageFigures> {
  // By month, not one sum: the per-currency money metrics come back as rows, which the fixed
  // Counters of countersBetween would drop. At most 13 months of rows for a 366-day range.
  const [inRange, through, windows] = await Promise.all([
    countersByPeriod(db, from, to, "month"),
    countersBefore(db, addDays(to, 1)),
    activeWindows(db, to, [[from, to]]),
  ]);
  return {
    ...flows(addRows(zeroCounters(), inRange), windows.rest[0] ?? 0, commerceFigures(inRange)),
    ...stocks(through),
    dau: windows.dau,
    wau: windows.wau,
    mau: windows.mau,
  };
}
