/**
 * The order workloads, for the route and the floor alike: each request is one order by one
 * user, with a fresh Idempotency-Key.
 * - serial: one user's orders one after another on one keep-alive connection per origin, route
 *   and floor taking turns in chunks, with the probes (GET targets: the wallet, the bare route,
 *   the floor's HTTP alone) in the same turns on the same connections; a target with `pauseMs`
 *   waits that long before each of its requests (so that the route's background outbox publish
 *   after the previous write has finished), and every request's wall-clock send and answer times
 *   are kept ({@link Timed}) to set them against the outbox rows' `published_at`;
 * - burst: every user's one order at once, one connection each;
 * - sustained: a fixed number of keep-alive connections cycling over the users for some seconds.
 * A 503 `temporarily_unavailable` answer is kept apart (retryable, nothing applied) with its key,
 * so that {@link retry} can send it again with the same key and body.
 */
import { randomUUID } from "node:crypto";
import { Agent } from "node:http";
import { percentile, send } from "../measure";

/**
 * Where one user's order goes: the route (bearer, key) or the floor (the user's index in the
 * path). A probe is a GET (no body, no key) expecting 200.
 */
export interface OrderTarget {
  name: string;
  origin: string;
  path(user: number): string;
  headers(user: number): Record<string, string>;
  /** The order's body (POST with a fresh Idempotency-Key); absent: a GET probe. */
  body?: string;
  /** Serial only: wait this long (ms) before each request, outside its timing. */
  pauseMs?: number;
}

/**
 * One serial request's wall-clock times (ms since the epoch, fractional: `performance.timeOrigin +
 * performance.now()`, comparable with the worker's `Date.now()`), its latency (µs), the order id
 * of a 201, and when the next request on the same connection was sent (absent: none followed).
 */
export interface Timed {
  sentAt: number;
  doneAt: number;
  us: number;
  status: number;
  orderId?: string;
  nextSentAt?: number;
}

/** An order that answered 503 `temporarily_unavailable`: who, and the key it was sent with. */
export interface Retryable {
  user: number;
  key: string;
}

/** Latency percentiles (µs), answers by status, and orders/s. */
export interface Load {
  /** Serial only: every request in the order sent. */
  timeline?: Timed[];
  n: number;
  p50: number;
  p99: number;
  /** 201s per second of wall time (serial: per second spent in this target's requests). */
  ordersPerSecond: number;
  statuses: Record<string, number>;
  /** 201 answers. */
  created: number;
  /** Answers with the expected status (201 for orders, 200 for probes). */
  ok: number;
  /** 503 `temporarily_unavailable` answers (nothing applied; retryable with the same key). */
  retryable: Retryable[];
  /** Answers that are neither expected nor retryable (socket errors count as status 0). */
  unexpected: number;
  /** The first unexpected answer, if any. */
  firstBad?: string;
}

function summarise(tally: Tally, seconds: number): Load {
  const s = Float64Array.from(tally.samples).sort();
  const created = tally.statuses["201"] ?? 0;
  return {
    n: tally.samples.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    ordersPerSecond: created / seconds,
    statuses: tally.statuses,
    created,
    ok: tally.ok,
    retryable: tally.retryable,
    unexpected: tally.unexpected,
    ...(tally.firstBad ? { firstBad: tally.firstBad } : {}),
  };
}

interface Answer {
  us: number;
  /** Wall-clock ms (fractional) when the request was sent and its answer complete. */
  sentAt?: number;
  doneAt?: number;
  status: number;
  body: string;
  user: number;
  key?: string;
}

/** Wall-clock ms since the epoch with a fraction, on the same clock as the worker's `Date.now()`. */
const wallMs = () => performance.timeOrigin + performance.now();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The order id of a 201's body, if it has one. */
function orderIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** One request of `user` to `t`: an order with `key` (a fresh one by default), or a GET probe. */
async function one(agent: Agent, t: OrderTarget, user: number, key = `bench-${randomUUID()}`): Promise<Answer> {
  const order = t.body !== undefined;
  const sentAt = wallMs();
  const t0 = process.hrtime.bigint();
  const r = await send(
    agent,
    {
      name: t.name,
      origin: t.origin,
      method: order ? "POST" : "GET",
      path: t.path(user),
      headers: order
        ? { ...t.headers(user), "idempotency-key": key, "content-type": "application/json" }
        : t.headers(user),
      body: t.body,
    },
    30_000,
  );
  const us = Number(process.hrtime.bigint() - t0) / 1000;
  return {
    us,
    sentAt,
    doneAt: sentAt + us / 1000,
    status: r.status,
    body: r.body,
    user,
    ...(order ? { key } : {}),
  };
}

/** A 503 whose problem says `temporarily_unavailable`: the route applied nothing and says retry. */
export function isRetryable(status: number, body: string): boolean {
  return status === 503 && body.includes("temporarily_unavailable");
}

class Tally {
  readonly samples: number[] = [];
  readonly timeline: Timed[] = [];
  readonly statuses: Record<string, number> = {};
  readonly retryable: Retryable[] = [];
  ok = 0;
  unexpected = 0;
  firstBad: string | undefined;
  constructor(private readonly expect: number) {}
  add(r: Answer): void {
    this.samples.push(r.us);
    this.statuses[r.status] = (this.statuses[r.status] ?? 0) + 1;
    if (r.status === this.expect) this.ok++;
    else if (r.key !== undefined && isRetryable(r.status, r.body)) this.retryable.push({ user: r.user, key: r.key });
    else {
      this.unexpected++;
      if (!this.firstBad) this.firstBad = `${r.status} ${r.body.slice(0, 200)}`;
    }
  }
}

const expected = (t: OrderTarget) => (t.body !== undefined ? 201 : 200);

/**
 * `n` requests of `user` per target, sequential on one keep-alive connection per origin (the
 * route's orders and probes share one, the floor's another), the targets taking turns in chunks
 * of `chunk` (A B C, then C B A, …); a target with `pauseMs` sleeps that long before each of its
 * requests (not timed). Each load carries its {@link Timed} timeline, `nextSentAt` being the
 * next request on the same connection, whichever target sent it.
 */
export async function serial(targets: OrderTarget[], user: number, n: number, chunk = 10): Promise<Load[]> {
  const byOrigin = new Map<string, Agent>();
  const agents = targets.map((t) => {
    let a = byOrigin.get(t.origin);
    if (!a) byOrigin.set(t.origin, (a = new Agent({ keepAlive: true, maxSockets: 1 })));
    return a;
  });
  const tallies = targets.map((t) => new Tally(expected(t)));
  /** The last request on each connection, to be given its successor's send time. */
  const last = new Map<Agent, Timed>();
  try {
    for (let done = 0, cycle = 0; done < n; done += chunk, cycle++) {
      const order = targets.map((_, k) => k);
      if (cycle % 2 === 1) order.reverse();
      for (const k of order)
        for (let i = done; i < Math.min(n, done + chunk); i++) {
          const t = targets[k]!;
          if (t.pauseMs) await sleep(t.pauseMs);
          const a = await one(agents[k]!, t, user);
          tallies[k]!.add(a);
          const prev = last.get(agents[k]!);
          if (prev) prev.nextSentAt = a.sentAt!;
          const orderId = a.status === 201 ? orderIdOf(a.body) : undefined;
          const timed: Timed = {
            sentAt: a.sentAt!,
            doneAt: a.doneAt!,
            us: a.us,
            status: a.status,
            ...(orderId ? { orderId } : {}),
          };
          tallies[k]!.timeline.push(timed);
          last.set(agents[k]!, timed);
        }
    }
  } finally {
    for (const a of byOrigin.values()) a.destroy();
  }
  return tallies.map((t) => ({
    ...summarise(t, t.samples.reduce((a, b) => a + b, 0) / 1e6),
    timeline: t.timeline,
  }));
}

/** Every order of `sends` at once, each on a connection of its own (a fresh key where none is given). */
async function atOnce(
  t: OrderTarget,
  expectedStatus: number,
  sends: { user: number; key?: string }[],
): Promise<{ tally: Tally; seconds: number }> {
  const tally = new Tally(expectedStatus);
  const agents = sends.map(() => new Agent({ keepAlive: false }));
  const t0 = performance.now();
  try {
    await Promise.all(
      sends.map(async (r, i) => {
        try {
          tally.add(await one(agents[i]!, t, r.user, r.key));
        } catch (err) {
          tally.add({ us: (performance.now() - t0) * 1000, status: 0, body: String(err), user: r.user });
        }
      }),
    );
  } finally {
    for (const a of agents) a.destroy();
  }
  return { tally, seconds: (performance.now() - t0) / 1000 };
}

/** The retryable orders sent again, all at once, each with its first key and the same body. */
export async function retry(t: OrderTarget, list: Retryable[]): Promise<Load> {
  const { tally, seconds } = await atOnce(t, 201, list);
  return summarise(tally, Math.max(1e-3, seconds));
}

/** One order per user of `users`, all sent at once, each on a connection of its own. */
export async function burst(t: OrderTarget, users: number[]): Promise<Load> {
  const { tally, seconds } = await atOnce(
    t,
    expected(t),
    users.map((user) => ({ user })),
  );
  return summarise(tally, seconds);
}

/** `connections` keep-alive connections, each sending orders of the next user in turn, for `seconds`. */
export async function sustained(t: OrderTarget, users: number[], connections: number, seconds: number): Promise<Load> {
  const tally = new Tally(expected(t));
  let next = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (performance.now() < end) {
          const u = users[next++ % users.length]!;
          try {
            tally.add(await one(agent, t, u));
          } catch (err) {
            tally.add({ us: 0, status: 0, body: String(err), user: u });
          }
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  return summarise(tally, (performance.now() - t0) / 1000);
}
