/** Walking a VIP schedule: what is still ahead, and chains of touching periods of one level. */

/** What these walks need of a period. */
interface Span {
  id: string;
  level: number;
  startsAt: number;
  endsAt: number;
}

/** Running and queued periods (not history, not empty), in schedule order. */
export function upcoming<T extends Span>(periods: readonly T[], now: number): T[] {
  return periods.filter((p) => p.endsAt > now && p.endsAt > p.startsAt).sort(byStart);
}

/** Start of the chain of touching periods of `to`'s level that ends with `to`. */
export function chainStart(periods: readonly Span[], to: Span): number {
  let start = to.startsAt;
  let prev = touching(periods, to.level, "endsAt", start);
  while (prev) {
    start = prev.startsAt;
    prev = touching(periods, to.level, "endsAt", start);
  }
  return start;
}

/** End of the chain of touching periods of `from`'s level that starts with `from`. */
export function chainEnd(periods: readonly Span[], from: Span): number {
  let end = from.endsAt;
  let next = touching(periods, from.level, "startsAt", end);
  while (next) {
    end = next.endsAt;
    next = touching(periods, from.level, "startsAt", end);
  }
  return end;
}

/** A non-empty period of `level` whose `edge` is `at`. */
function touching(periods: readonly Span[], level: number, edge: "startsAt" | "endsAt", at: number): Span | undefined {
  return periods.find((p) => p.level === level && p[edge] === at && p.endsAt > p.startsAt);
}

export function byStart(a: Span, b: Span): number {
  return a.startsAt - b.startsAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
