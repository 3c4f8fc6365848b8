import type { Granularity } from "../../db/tenant/stats";
import { AppError } from "../../lib/errors";

/**
 * Calendar arithmetic on UTC days written 'YYYY-MM-DD' (the statistics' only time zone). Strings
 * of that shape compare in date order, which the period loop relies on.
 */
const DAY_MS = 86_400_000;

export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const msOf = (day: string): number => Date.parse(`${day}T00:00:00Z`);
export const addDays = (day: string, n: number): string => dayOf(msOf(day) + n * DAY_MS);
/** Days from `from` to `to` inclusive (1 when equal). */
export const daysInRange = (from: string, to: string): number => Math.round((msOf(to) - msOf(from)) / DAY_MS) + 1;

/**
 * The days statistics can be asked about. Outside them the calendar arithmetic leaves four-digit
 * years ('+010000-01-01' sorts before '9999-12-31'), so a range there could loop forever.
 */
export const FIRST_DAY = "2000-01-01";
export const LAST_DAY = "2199-12-31";

/** 400 `invalid_range` unless `day` lies within FIRST_DAY … LAST_DAY. */
export function assertSupportedDay(name: string, day: string): void {
  if (day < FIRST_DAY || day > LAST_DAY) {
    throw new AppError("invalid_range", `${name} (${day}) must lie between ${FIRST_DAY} and ${LAST_DAY}.`);
  }
}

/** True for a real calendar date ('2024-02-30' is not one). */
export function isCalendarDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const ms = msOf(s);
  return Number.isFinite(ms) && dayOf(ms) === s;
}

/** The first day of the period holding `day`: itself, the Monday of its ISO week, or the 1st of its month. */
export function periodStart(day: string, g: Granularity): string {
  if (g === "day") return day;
  if (g === "month") return `${day.slice(0, 7)}-01`;
  return addDays(day, -((new Date(msOf(day)).getUTCDay() + 6) % 7));
}

function nextPeriodStart(start: string, g: Granularity): string {
  if (g === "day") return addDays(start, 1);
  if (g === "week") return addDays(start, 7);
  const d = new Date(msOf(start));
  return dayOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

/** '2024-03-05', '2024-W10' (ISO week-numbering year and week) or '2024-03'. */
export function periodLabel(start: string, g: Granularity): string {
  if (g === "day") return start;
  if (g === "month") return start.slice(0, 7);
  // An ISO week belongs to the year of its Thursday; week 1 holds the year's first Thursday.
  const thursday = addDays(start, 3);
  const year = thursday.slice(0, 4);
  const week = Math.floor((daysInRange(`${year}-01-01`, thursday) - 1) / 7) + 1;
  return `${year}-W${String(week).padStart(2, "0")}`;
}

export interface Period {
  /** The period's full first day (what the SQL groups by), which may precede `start`. */
  key: string;
  label: string;
  /** The period clipped to the requested range (inclusive days). */
  start: string;
  end: string;
}

/** More periods than any allowed range has (MAX_DAYS in service.ts): a hard stop for the loop below. */
export const MAX_PERIODS = 2000;

/**
 * The periods covering [from, to], the first and last clipped to the range. The loop is bounded
 * whatever the bounds: past MAX_PERIODS periods it is a 400 `invalid_range`.
 */
export function periodsOf(from: string, to: string, g: Granularity): Period[] {
  const out: Period[] = [];
  for (let key = periodStart(from, g); key <= to; ) {
    if (out.length >= MAX_PERIODS)
      throw new AppError("invalid_range", `The range holds more than ${MAX_PERIODS} periods.`);
    const next = nextPeriodStart(key, g);
    const last = addDays(next, -1);
    out.push({ key, label: periodLabel(key, g), start: key < from ? from : key, end: last > to ? to : last });
    key = next;
  }
  return out;
}
