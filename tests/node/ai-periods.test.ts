import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isTimeZone, type PeriodKind, periodAt } from "../../src/lib/periods";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const utc = (iso: string) => Date.parse(iso);
const span = (kind: PeriodKind, tz: string, iso: string) => {
  const p = periodAt(kind, tz, utc(iso));
  return { start: new Date(p.start).toISOString(), end: new Date(p.end).toISOString() };
};

const testFormatters = new Map<string, Intl.DateTimeFormat>();
function testFormatter(tz: string): Intl.DateTimeFormat {
  let f = testFormatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    testFormatters.set(tz, f);
  }
  return f;
}

/** Local date and time of `t` in `tz`, read with Intl independently of the module under test. */
function localParts(tz: string, t: number) {
  const parts = testFormatter(tz).formatToParts(t);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    date: `${get("year")}-${get("month")}-${get("day")}`,
    time: `${Number(get("hour")) % 24}:${get("minute")}:${get("second")}`,
    weekday: get("weekday"),
  };
}

describe("quota periods in UTC", () => {
  it("a day runs from midnight to midnight", () => {
    expect(span("day", "UTC", "2024-05-15T13:45:00Z")).toEqual({
      start: "2024-05-15T00:00:00.000Z",
      end: "2024-05-16T00:00:00.000Z",
    });
    expect(span("day", "UTC", "2024-05-16T00:00:00Z").start).toBe("2024-05-16T00:00:00.000Z");
    expect(span("day", "UTC", "2024-05-15T23:59:59.999Z").start).toBe("2024-05-15T00:00:00.000Z");
  });

  it("a week runs from Monday to Monday", () => {
    // 2024-05-15 is a Wednesday.
    expect(span("week", "UTC", "2024-05-15T13:45:00Z")).toEqual({
      start: "2024-05-13T00:00:00.000Z",
      end: "2024-05-20T00:00:00.000Z",
    });
  });

  it("a month runs from the 1st to the next month's 1st, across a year end", () => {
    expect(span("month", "UTC", "2024-05-15T13:45:00Z")).toEqual({
      start: "2024-05-01T00:00:00.000Z",
      end: "2024-06-01T00:00:00.000Z",
    });
    expect(span("month", "UTC", "2024-12-31T23:59:59.999Z")).toEqual({
      start: "2024-12-01T00:00:00.000Z",
      end: "2025-01-01T00:00:00.000Z",
    });
  });
});

describe("quota periods in other zones", () => {
  it("a day in Asia/Shanghai (+8) starts at 16:00Z; 15:59:59.999Z belongs to the day before", () => {
    expect(span("day", "Asia/Shanghai", "2024-05-15T16:00:00Z")).toEqual({
      start: "2024-05-15T16:00:00.000Z",
      end: "2024-05-16T16:00:00.000Z",
    });
    expect(span("day", "Asia/Shanghai", "2024-05-15T15:59:59.999Z")).toEqual({
      start: "2024-05-14T16:00:00.000Z",
      end: "2024-05-15T16:00:00.000Z",
    });
  });

  it("a day in Asia/Kathmandu (+5:45) starts at 18:15Z", () => {
    expect(span("day", "Asia/Kathmandu", "2024-05-15T10:00:00Z")).toEqual({
      start: "2024-05-14T18:15:00.000Z",
      end: "2024-05-15T18:15:00.000Z",
    });
    expect(span("day", "Asia/Kathmandu", "2024-05-15T18:14:59.999Z").start).toBe("2024-05-14T18:15:00.000Z");
    expect(span("day", "Asia/Kathmandu", "2024-05-15T18:15:00Z").start).toBe("2024-05-15T18:15:00.000Z");
  });

  it("Europe/Berlin's day is 23 hours on the last Sunday of March and 25 on the last of October", () => {
    const spring = periodAt("day", "Europe/Berlin", utc("2024-03-31T12:00:00Z"));
    expect(spring).toEqual({ start: utc("2024-03-30T23:00:00Z"), end: utc("2024-03-31T22:00:00Z") });
    expect(spring.end - spring.start).toBe(23 * HOUR);
    const autumn = periodAt("day", "Europe/Berlin", utc("2024-10-27T12:00:00Z"));
    expect(autumn).toEqual({ start: utc("2024-10-26T22:00:00Z"), end: utc("2024-10-27T23:00:00Z") });
    expect(autumn.end - autumn.start).toBe(25 * HOUR);
  });

  it("a day in America/Santiago whose midnight is skipped starts at its first instant (01:00)", () => {
    // Find the days of 2024 and 2025 whose local 00:00 does not exist, asking Intl itself:
    // the instant before reads 23:59:59 and the instant itself 1:00:00 of the next date.
    const tz = "America/Santiago";
    const skipped: number[] = [];
    for (let t = utc("2024-01-01T00:00:00Z"); t < utc("2026-01-01T00:00:00Z"); t += HOUR) {
      if (localParts(tz, t - 1).time === "23:59:59" && localParts(tz, t).time === "1:00:00") skipped.push(t);
    }
    expect(skipped.length).toBeGreaterThanOrEqual(2); // one September a year while Chile keeps DST
    for (const first of skipped) {
      expect(localParts(tz, first).date.split("-")[1]).toBe("9");
      const day = periodAt("day", tz, first + 5 * HOUR);
      expect(day.start).toBe(first);
      expect(day.end - day.start).toBe(23 * HOUR);
      expect(periodAt("day", tz, first - 1).end).toBe(first);
      expect(localParts(tz, day.end).time).toBe("0:00:00");
    }
  });

  it("America/Santiago's day with a repeated 23:00 hour (April) is 25 hours and ends at the second midnight", () => {
    // Clocks go from 23:59:59 back to 23:00 on a Saturday of April: the hour repeats within the day.
    const tz = "America/Santiago";
    const repeated: number[] = [];
    for (let t = utc("2024-01-01T00:00:00Z"); t < utc("2026-01-01T00:00:00Z"); t += HOUR) {
      if (localParts(tz, t - 1).time === "23:59:59" && localParts(tz, t).time === "23:00:00") repeated.push(t);
    }
    expect(repeated.length).toBeGreaterThanOrEqual(2);
    for (const t of repeated) {
      const day = periodAt("day", tz, t);
      expect(day.end - day.start).toBe(25 * HOUR);
      expect(day.end).toBe(t + HOUR);
      expect(periodAt("day", tz, t - 1)).toEqual(day);
    }
  });

  it("a midnight that occurs twice (America/Havana, 2024-11-03) opens the day the first time", () => {
    const tz = "America/Havana";
    // Clocks went from 00:59:59 (-4) back to 00:00 (-5): local midnight was 04:00Z and again 05:00Z.
    expect(localParts(tz, utc("2024-11-03T04:00:00Z")).time).toBe("0:00:00");
    expect(localParts(tz, utc("2024-11-03T05:00:00Z")).time).toBe("0:00:00");
    const day = periodAt("day", tz, utc("2024-11-03T05:30:00Z"));
    expect(day).toEqual({ start: utc("2024-11-03T04:00:00Z"), end: utc("2024-11-04T05:00:00Z") });
    expect(periodAt("day", tz, utc("2024-11-03T03:59:59.999Z")).end).toBe(day.start);
  });

  it("where clocks turned back across midnight (St. John's, 2006-10-29), the repeated hour joins the new day", () => {
    const tz = "America/St_Johns";
    // At 00:01 NDT (-2:30) clocks went back to 23:01 NST (-3:30) of Saturday 28 October, so 03:00Z
    // reads Saturday 23:30 although Sunday began at 02:30Z.
    expect(localParts(tz, utc("2006-10-29T02:30:00Z"))).toMatchObject({ date: "2006-10-29", time: "0:00:00" });
    expect(localParts(tz, utc("2006-10-29T03:00:00Z"))).toMatchObject({ date: "2006-10-28", time: "23:30:00" });
    const sunday = { start: utc("2006-10-29T02:30:00Z"), end: utc("2006-10-30T03:30:00Z") };
    expect(periodAt("day", tz, utc("2006-10-29T03:00:00Z"))).toEqual(sunday);
    expect(periodAt("day", tz, utc("2006-10-29T02:29:59.999Z")).end).toBe(sunday.start);
    // Every minute around the change lies in exactly one period, and periods follow each other.
    for (let t = utc("2006-10-28T00:00:00Z"); t < utc("2006-10-31T00:00:00Z"); t += 60_000) {
      const p = periodAt("day", tz, t);
      expect(p.start <= t && t < p.end).toBe(true);
      expect(periodAt("day", tz, p.end).start).toBe(p.end);
    }
  });

  it("a week starts on Monday: a Sunday late-night instant belongs to the week begun six days before", () => {
    // Sunday 2024-05-19 23:30 in Shanghai is 15:30Z; its week began Monday 2024-05-13 00:00 local.
    expect(span("week", "Asia/Shanghai", "2024-05-19T15:30:00Z")).toEqual({
      start: "2024-05-12T16:00:00.000Z",
      end: "2024-05-19T16:00:00.000Z",
    });
    expect(localParts("Asia/Shanghai", utc("2024-05-12T16:00:00Z")).weekday).toBe("Mon");
    // Monday 00:00 local opens the next week.
    expect(span("week", "Asia/Shanghai", "2024-05-19T16:00:00Z").start).toBe("2024-05-19T16:00:00.000Z");
  });

  it("February of a leap year in Asia/Tokyo ends after the 29th", () => {
    // 2028-02-29 23:59 local (+9) is 14:59Z; 2028-03-01 00:00 local is 15:00Z.
    const february = periodAt("month", "Asia/Tokyo", utc("2028-02-29T14:59:00Z"));
    expect(february).toEqual({ start: utc("2028-01-31T15:00:00Z"), end: utc("2028-02-29T15:00:00Z") });
    expect(february.end - february.start).toBe(29 * DAY);
    expect(span("month", "Asia/Tokyo", "2028-02-29T15:00:00Z")).toEqual({
      start: "2028-02-29T15:00:00.000Z",
      end: "2028-03-31T15:00:00.000Z",
    });
  });

  it("Pacific/Apia skipped 2011-12-30: the day before ends where 31 December starts", () => {
    // Samoa went from 29 December 24:00 (-10) straight to 31 December 00:00 (+14) at 10:00Z.
    const dec31 = periodAt("day", "Pacific/Apia", utc("2011-12-30T10:30:00Z")); // 31 Dec 00:30 local
    expect(localParts("Pacific/Apia", utc("2011-12-30T10:30:00Z")).date).toBe("2011-12-31");
    expect(dec31).toEqual({ start: utc("2011-12-30T10:00:00Z"), end: utc("2011-12-31T10:00:00Z") });
    const dec29 = periodAt("day", "Pacific/Apia", utc("2011-12-30T09:59:59.999Z"));
    expect(dec29).toEqual({ start: utc("2011-12-29T10:00:00Z"), end: utc("2011-12-30T10:00:00Z") });
    // The week from Monday 26 December (-10) to Monday 2 January (+14) has six days.
    const week = periodAt("week", "Pacific/Apia", utc("2011-12-30T10:30:00Z"));
    expect(week).toEqual({ start: utc("2011-12-26T10:00:00Z"), end: utc("2012-01-01T10:00:00Z") });
  });

  it("answers a fresh object each time, so changing one does not change the next answer", () => {
    const first = periodAt("day", "UTC", utc("2024-05-15T12:00:00Z"));
    first.end = 0;
    expect(periodAt("day", "UTC", utc("2024-05-15T13:00:00Z")).end).toBe(utc("2024-05-16T00:00:00Z"));
  });

  it("throws RangeError for an unknown zone or an instant that is not a number", () => {
    expect(() => periodAt("day", "Mars/Olympus", 0)).toThrow(RangeError);
    expect(() => periodAt("day", "UTC", Number.NaN)).toThrow(RangeError);
  });
});

describe("period invariants (property)", () => {
  const zones = [
    "UTC",
    "Asia/Shanghai",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "Asia/Tehran",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "America/Sao_Paulo",
    "America/Havana",
    "America/St_Johns",
    "America/Moncton",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Africa/Casablanca",
  ];
  const instant = fc.integer({ min: utc("1970-01-01T00:00:00Z"), max: utc("2100-01-01T00:00:00Z") });
  const zone = fc.constantFrom(...zones);
  const kind = fc.constantFrom<PeriodKind>("day", "week", "month");

  it("the period contains the instant, and its start and end each open a period", () => {
    fc.assert(
      fc.property(kind, zone, instant, (k, tz, now) => {
        const p = periodAt(k, tz, now);
        expect(p.start).toBeLessThanOrEqual(now);
        expect(now).toBeLessThan(p.end);
        // periodAt remembers its last answer per kind and zone; asking about the next period
        // first makes each of these a fresh computation.
        expect(periodAt(k, tz, p.end).start).toBe(p.end);
        expect(periodAt(k, tz, p.start).start).toBe(p.start);
        expect(periodAt(k, tz, p.end).start).toBe(p.end);
        expect(periodAt(k, tz, p.end - 1)).toEqual(p);
      }),
      { numRuns: 2000 },
    );
  });

  it("a day lasts 22 to 26 hours and opens on the first instant of a local date", () => {
    fc.assert(
      fc.property(zone, instant, (tz, now) => {
        const p = periodAt("day", tz, now);
        expect(p.end - p.start).toBeGreaterThanOrEqual(22 * HOUR);
        expect(p.end - p.start).toBeLessThanOrEqual(26 * HOUR);
        expect(localParts(tz, p.start - 1).date).not.toBe(localParts(tz, p.start).date);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("time zone names for configuration", () => {
  it("accepts IANA names the runtime knows", () => {
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Asia/Shanghai")).toBe(true);
    expect(isTimeZone("Asia/Kathmandu")).toBe(true);
  });

  it("refuses unknown names, the empty string and bare offsets", () => {
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(isTimeZone("")).toBe(false);
    expect(isTimeZone("+08:00")).toBe(false);
    expect(isTimeZone("-03:00")).toBe(false);
  });
});
