import { AppError } from "../../lib/errors";
import { hourStartAt, periodAt } from "../../lib/periods";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The longest windows: 31 days of hours, 366 of days. */
const MAX_SPAN = { hour: 31 * DAY, day: 366 * DAY } as const;

/** A usage window: bucket starts aligned to local hours or days, `to` exclusive. */
export interface UsageWindow {
  from: number;
  to: number;
  starts: number[];
}

/** The start of the bucket containing `t`. */
const bucketAt = (g: "hour" | "day", tz: string, t: number) =>
  g === "hour" ? hourStartAt(tz, t) : periodAt("day", tz, t).start;
const nextBucket = (g: "hour" | "day", tz: string, start: number) =>
  g === "hour" ? hourStartAt(tz, start + HOUR + 60_000) : periodAt("day", tz, start).end;

/**
 * The window of a usage query: `from`/`to` default to the last 7 days (or 24 hours), are widened to
 * whole buckets, and must be ordered and within the granularity's limit (400 `invalid_range`).
 */
export function usageWindow(
  q: { from?: string | undefined; to?: string | undefined },
  granularity: "hour" | "day",
  timeZone: string,
  now = Date.now(),
): UsageWindow {
  const to = q.to ? Date.parse(q.to) : now;
  const from = q.from ? Date.parse(q.from) : to - (granularity === "hour" ? DAY : 7 * DAY);
  if (!(from < to)) throw new AppError("invalid_range", "`from` must be before `to`.");
  if (to - from > MAX_SPAN[granularity]) {
    throw new AppError(
      "invalid_range",
      `A window of ${granularity === "hour" ? "hours is at most 31 days" : "days is at most 366 days"}.`,
    );
  }
  const starts: number[] = [];
  let t = bucketAt(granularity, timeZone, from);
  for (; t < to; t = nextBucket(granularity, timeZone, t)) starts.push(t);
  return { from: starts[0]!, to: t, starts };
}
