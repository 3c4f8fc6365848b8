/**
 * Throughput of the quota check and of its baselines: autocannon with N connections in one-second
 * slices that alternate between the targets (A B C, C B A, …, as measure.ts does), every request
 * of a check target naming the next user of its list in `x-bench-user`, and every check answer
 * read for whether its user and pool parts came from a lease (summed per target).
 */
import autocannon from "autocannon";

declare module "autocannon" {
  interface Request {
    /** Called with every response when given (autocannon then keeps the body). */
    onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  }
}

export interface LoadTarget {
  name: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** Check targets: the user ids taken in turn, one per request. */
  users?: string[];
}

export interface LoadResult {
  rps: number;
  total: number;
  seconds: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Check answers read, and how many had the user part, the pool part, both from a lease. */
  answers: number;
  userLeased: number;
  poolLeased: number;
  bothLeased: number;
}

const empty = (): LoadResult => ({
  rps: 0,
  total: 0,
  seconds: 0,
  non2xx: 0,
  errors: 0,
  timeouts: 0,
  answers: 0,
  userLeased: 0,
  poolLeased: 0,
  bothLeased: 0,
});

/** One slice of `seconds` on `t`, added to `acc`. */
async function slice(t: LoadTarget, connections: number, seconds: number, acc: LoadResult): Promise<void> {
  const users = t.users;
  let next = 0;
  const r = await autocannon({
    url: t.origin,
    connections,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: "GET",
        path: t.path,
        headers: t.headers,
        ...(users
          ? {
              setupRequest: (req) => ({
                ...req,
                headers: { ...req.headers, "x-bench-user": users[next++ % users.length]! },
              }),
              onResponse: (status, body) => {
                if (status !== 200) return;
                acc.answers++;
                const u = body.includes('"u":1');
                const p = body.includes('"p":1');
                if (u) acc.userLeased++;
                if (p) acc.poolLeased++;
                if (u && p) acc.bothLeased++;
              },
            }
          : {}),
      },
    ],
  });
  acc.total += r.requests.total;
  acc.seconds += r.duration;
  acc.non2xx += r.non2xx;
  acc.errors += r.errors;
  acc.timeouts += r.timeouts;
}

/** Every target for `seconds` one-second slices, interleaved ABBA; req/s over the summed slice time. */
export async function loadInterleaved(
  targets: LoadTarget[],
  connections: number,
  seconds: number,
): Promise<LoadResult[]> {
  const acc = targets.map(empty);
  for (let s = 0; s < seconds; s++) {
    const order = targets.map((_, k) => k);
    if (s % 2 === 1) order.reverse();
    for (const k of order) await slice(targets[k]!, connections, 1, acc[k]!);
  }
  return acc.map((a) => ({ ...a, rps: a.total / a.seconds }));
}
