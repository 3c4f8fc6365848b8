/**
 * Quota periods in a tenant's time zone: the local day, ISO week or month that contains an
 * instant. Pure and dependency-free: only `Intl`, which workerd and Node both ship with full
 * time zone data, so the Worker, the quota Durable Object and Node tests agree to the millisecond.
 */

/** How long a quota lasts before it resets: a local day, an ISO week (from Monday) or a month. */
export type PeriodKind = "day" | "week" | "month";

/** A half-open interval `[start, end)` of UTC epoch milliseconds. */
export interface Period {
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;

/**
 * One formatter per zone name: creating an `Intl.DateTimeFormat` costs far more than using one.
 * Zone names are a closed set, but Intl accepts any letter case ("asia/shanghai"), so the map is
 * emptied when it grows past a bound rather than grow with whatever a caller passes.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_CACHED = 1024;

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    if (formatters.size >= MAX_CACHED) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The local wall-clock time of instant `t` in `timeZone`, written as if it were a UTC instant
 * ("2024-03-31 01:30 in Berlin" → `Date.UTC(2024, 2, 31, 1, 30)`), milliseconds included.
 * Throws RangeError for an unknown zone or a non-finite `t`.
 */
function wallClock(timeZone: string, t: number): number {
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const part of formatterFor(timeZone).formatToParts(t)) {
    const n = Number(part.value);
    if (part.type === "year") year = n;
    else if (part.type === "month") month = n;
    else if (part.type === "day") day = n;
    else if (part.type === "hour")
      hour = n % 24; // old engines wrote midnight as 24 despite h23
    else if (part.type === "minute") minute = n;
    else if (part.type === "second") second = n;
  }
  const ms = ((t % 1000) + 1000) % 1000; // Intl stops at seconds; no zone offset has a fraction of one
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** The zone's UTC offset at instant `t`, in milliseconds (Berlin in summer: +7,200,000). */
const offsetAt = (timeZone: string, t: number): number => wallClock(timeZone, t) - t;

/**
 * The first instant whose local wall-clock time in `timeZone` is at or after `wall` (a local
 * date-time written as a UTC instant, as {@link wallClock} returns it):
 * - a wall time that exists once is that instant;
 * - one that exists twice (clocks turned back over it) is the earlier instant;
 * - one that does not exist (clocks jumped over it: Santiago's midnight in September, Apia's whole
 *   30 December 2011) is the first instant after the jump.
 * The zone's offset a day before and a day after `wall` gives the only two candidates (no zone
 * changes its offset twice within two days); a jump is then located by bisection between them.
 */
function instantOfWallClock(timeZone: string, wall: number): number {
  const before = offsetAt(timeZone, wall - DAY_MS);
  const after = offsetAt(timeZone, wall + DAY_MS);
  const early = wall - Math.max(before, after);
  const late = wall - Math.min(before, after);
  if (wallClock(timeZone, early) === wall) return early;
  if (wallClock(timeZone, late) === wall) return late;
  // A gap: wall(lo) < wall <= wall(hi). Bisect for the first instant at or past `wall`.
  let lo = early;
  let hi = late;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (wallClock(timeZone, mid) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Local midnight that opens the period of `kind` containing the local date `date` (a UTC midnight). */
function openingMidnight(kind: PeriodKind, date: number): number {
  const d = new Date(date);
  if (kind === "day") return date;
  if (kind === "week") return date - ((d.getUTCDay() + 6) % 7) * DAY_MS; // back to Monday
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Local midnight that opens the period after the one opened at local midnight `opening`. */
function nextOpeningMidnight(kind: PeriodKind, opening: number): number {
  if (kind === "day") return opening + DAY_MS;
  if (kind === "week") return opening + 7 * DAY_MS;
  const d = new Date(opening);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * The last period answered per kind and zone: a quota object asks about the same period on
 * every call, and answering from here skips Intl entirely. Periods never overlap, so one that
 * contains `now` is the answer.
 */
const lastPeriod = new Map<string, Period>();

/**
 * The period of `kind` that contains the instant `now` (UTC ms) in the local time of the IANA zone
 * `timeZone`, as a half-open `[start, end)` of UTC ms, so `start <= now < end`:
 * - `day`: from local midnight to the next local midnight, so 23 or 25 hours long on the days
 *   clocks change (Berlin's last Sundays of March and October), 24 on others;
 * - `week`: from local midnight of Monday (ISO 8601) to the next Monday's;
 * - `month`: from local midnight of the 1st to the next month's 1st.
 * A local midnight that does not exist (clocks jump over it, as in Santiago in September) is
 * replaced by the first instant after the jump: the period starts at the first instant of its
 * local date. A local date skipped entirely (Apia's 30 December 2011) has no day period; the day
 * before it ends where the day after it starts. A midnight that occurs twice opens the period
 * the first time, and where clocks turned back across midnight (St. John's and Moncton until
 * 2010, from 00:01 back to 23:01), the repeated stretch of the earlier date belongs to the period
 * already opened. So periods never overlap and leave no gap: the end of one is the start of the
 * next, `periodAt(kind, tz, p.end).start === p.end`. A day is 24 hours ± the clock change it
 * holds (23 to 26 hours in populated zones since 1970; Antarctic stations changed by 3 hours).
 *
 * Throws RangeError for an unknown zone (see {@link isTimeZone}) or a non-finite `now`.
 */
export function periodAt(kind: PeriodKind, timeZone: string, now: number): Period {
  const key = `${kind} ${timeZone}`;
  const cached = lastPeriod.get(key);
  if (cached !== undefined && cached.start <= now && now < cached.end) return { ...cached };
  const localDate = Math.floor(wallClock(timeZone, now) / DAY_MS) * DAY_MS;
  let opening = openingMidnight(kind, localDate);
  let start = instantOfWallClock(timeZone, opening);
  opening = nextOpeningMidnight(kind, opening);
  let end = instantOfWallClock(timeZone, opening);
  // Clocks turned back across midnight and `now` is in the repeated stretch of the earlier date,
  // after the next period had opened: `now` belongs to that next period.
  while (end <= now) {
    start = end;
    opening = nextOpeningMidnight(kind, opening);
    end = instantOfWallClock(timeZone, opening);
  }
  const period = { start, end };
  if (lastPeriod.size >= MAX_CACHED) lastPeriod.clear();
  lastPeriod.set(key, period);
  return { ...period };
}

/**
 * Whether `tz` names a time zone of the IANA database that this runtime knows ("UTC",
 * "Asia/Shanghai", "Etc/GMT-8"; Intl ignores letter case). For validating configuration: an
 * unknown name makes `Intl.DateTimeFormat` throw RangeError. Offset strings ("+08:00"), which
 * newer engines accept as zones, are refused: a fixed offset is written "Etc/GMT-8", and a quota
 * should follow the clocks of a place. `Intl.supportedValuesOf("timeZone")` is not used: it lists
 * canonical names only, and some engines leave "UTC" out.
 */
export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z]/.test(tz)) return false;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

/**
 * The start of the local hour that contains `t` in `timeZone` (for usage charts): `t` minus the
 * minutes, seconds and milliseconds its wall clock shows. In zones whose offset has a half or
 * three-quarter hour (+5:30, +5:45) a local hour starts at :30 or :15 UTC, which quarter-hour
 * usage buckets still divide exactly.
 */
export function hourStartAt(timeZone: string, t: number): number {
  return t - (((wallClock(timeZone, t) % 3_600_000) + 3_600_000) % 3_600_000);
}
