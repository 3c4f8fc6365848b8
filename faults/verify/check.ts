/**
 * One invariant's result: the figures the report prints (operations attempted, acknowledged,
 * found afterwards, lost) and every failure, each precise enough to reproduce (ids, requests,
 * answers). An invariant holds when it has no failure; `lost` > 0 is always a failure.
 */
export interface Check {
  name: string;
  attempted: number;
  acknowledged: number;
  found: number;
  lost: number;
  /** Other figures of the invariant, e.g. "stored though unacknowledged: 3". */
  notes: string[];
  failures: string[];
}

export function check(name: string): Check {
  return { name, attempted: 0, acknowledged: 0, found: 0, lost: 0, notes: [], failures: [] };
}

/** Adds a failure, keeping the list readable (the first `max` in full, then a count). */
export function fail(c: Check, message: string, max = 12): void {
  if (c.failures.length < max) c.failures.push(message);
  else if (c.failures.length === max) c.failures.push("… (more of the same omitted)");
}

/** Counts of a list by key, e.g. statuses. */
export function countBy<T>(list: readonly T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of list) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

export function describeCounts(m: Map<string, number>): string {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ×${n}`)
    .join(", ");
}
