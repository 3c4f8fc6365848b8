/**
 * The commerce benchmark's markdown: per workload, route and floor (medians over rounds of each
 * round's p50, p99 and orders/s, min–max of the p50 in brackets), the ratio route p50 / floor
 * p50 taken per round; the serial decomposition (the Node floor's HTTP alone, the floor's order,
 * the bare route, the wallet read, the order route, each step's cost as the median of per-round
 * differences), again for the same targets each paused before every request (no outbox publish
 * in flight); what the publish after each serial order did (publish.ts); the 503s set apart and
 * their retries; and the checks made after every round.
 */
import { table } from "../markdown";
import { median } from "../measure";
import type { Machine } from "../report";
import type { Load } from "./orders";
import type { PublishStats } from "./publish";

export type Workload = "serial" | "burst" | "sustained";
export const WORKLOADS: Workload[] = ["serial", "burst", "sustained"];
/** The serial turns' GET targets: `GET /__bare`, `GET /v1/wallet`, the floor's `GET /ping`. */
export type Probe = "bare" | "wallet" | "floorHttp";

export interface CommerceRound {
  loads: Record<Workload, { route: Load; floor: Load }>;
  /** The serial probes, timed in the same turns as the serial orders. */
  probes: Record<Probe, Load>;
  /** The same serial targets, each request after a pause (`--serial-pause-ms`; absent: 0). */
  paused?: { route: Load; floor: Load; probes: Record<Probe, Load> };
  /** The outbox publish after the serial orders, without and with the pause. */
  publish: { unpaused: PublishStats; paused?: PublishStats };
  /** Per workload, the route's 503 `temporarily_unavailable` orders sent again once (absent: none). */
  retries: Partial<Record<Workload, Load>>;
  /** What the invariant checks after the round found (empty: all held). */
  failures: string[];
  /** Answers neither expected nor retryable, and retries that did not answer 201 or 402. */
  unexpected: string[];
  /** Cumulative 201s of the route (retries included) and order rows in its file after the round. */
  created: number;
  orderRows: number;
}

export interface CommerceSettings {
  rounds: number;
  serial: number;
  users: number;
  connections: number;
  seconds: number;
  /** The pause before each request of the paused serial targets, ms (0: none). */
  pauseMs: number;
}

const ms = (us: number) => (us / 1000).toFixed(2);
const spread = (xs: number[], f: (x: number) => string) =>
  `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const signedMs = (us: number) => `${us >= 0 ? "+" : "−"}${ms(Math.abs(us))}`;

/** One round's route answers for a workload: `201s/requests`, and the 503s with their retry. */
function answers(r: CommerceRound, w: Workload): string {
  const l = r.loads[w].route;
  const q = r.retries[w];
  if (!q) return `${l.created}/${l.n}`;
  const other = q.n - q.created - (q.statuses["402"] ?? 0);
  return `${l.created}/${l.n} + ${l.retryable.length} × 503 → ${q.created} × 201, ${q.statuses["402"] ?? 0} × 402${other ? `, ${other} other` : ""}`;
}

/** The serial layers of one variant: unpaused, or every request after a pause. */
interface Layers {
  bare: (r: CommerceRound) => Load;
  wallet: (r: CommerceRound) => Load;
  order: (r: CommerceRound) => Load;
  floorHttp: (r: CommerceRound) => Load;
  floor: (r: CommerceRound) => Load;
}

const UNPAUSED: Layers = {
  bare: (r) => r.probes.bare,
  wallet: (r) => r.probes.wallet,
  order: (r) => r.loads.serial.route,
  floorHttp: (r) => r.probes.floorHttp,
  floor: (r) => r.loads.serial.floor,
};

const PAUSED: Layers = {
  bare: (r) => r.paused!.probes.bare,
  wallet: (r) => r.paused!.probes.wallet,
  order: (r) => r.paused!.route,
  floorHttp: (r) => r.paused!.probes.floorHttp,
  floor: (r) => r.paused!.floor,
};

function decomposition(rounds: CommerceRound[], v: Layers, tag: string): string {
  const p50 = (f: (r: CommerceRound) => Load) => rounds.map((r) => f(r).p50);
  const step = (a: (r: CommerceRound) => Load, b: (r: CommerceRound) => Load) =>
    spread(
      rounds.map((r) => a(r).p50 - b(r).p50),
      signedMs,
    );
  const ratio = (f: (r: CommerceRound) => Load) =>
    spread(
      rounds.map((r) => f(r).p50 / v.floor(r).p50),
      (x) => `${x.toFixed(2)}x`,
    );
  const { bare, wallet, order, floorHttp, floor } = v;
  const row = (
    w: string,
    f: (r: CommerceRound) => Load,
    prev: ((r: CommerceRound) => Load) | undefined,
    prevName: string,
    adds: string,
  ) => [
    `${w}${tag}`,
    spread(p50(f), ms),
    ms(median(rounds.map((r) => f(r).p99))),
    ratio(f),
    prev ? `${step(f, prev)} over ${prevName}` : "—",
    adds,
  ];
  return table(
    [
      "serial request (1 user, 1 keep-alive connection)",
      "p50 ms",
      "p99 ms",
      "p50 / floor order",
      "step, ms",
      "what the step adds",
    ],
    [
      row("floor: `GET /ping` (Node HTTP, no SQL)", floorHttp, undefined, "", "loopback HTTP, Node server and client"),
      row(
        "floor: the order (`POST /order/0`)",
        floor,
        floorHttp,
        "ping",
        "the order's two SQLite transactions in-process, body parse",
      ),
      row(
        "route: `GET /__bare` (workerd, outside the chain)",
        bare,
        floorHttp,
        "ping",
        "workerd's HTTP instead of Node's",
      ),
      row(
        "route: `GET /v1/wallet`",
        wallet,
        bare,
        "bare",
        "gateway chain, tenant, authentication, one Hrana round trip (1 SELECT)",
      ),
      row(
        "route: `POST /v1/orders`",
        order,
        wallet,
        "wallet",
        tag
          ? "body validation and hash, a second round trip, the claim's and the order's SQL instead of 1 SELECT (the previous order's publish has finished)"
          : "body validation and hash, a second round trip, the claim's and the order's SQL instead of 1 SELECT, the outbox publish after each response",
      ),
    ],
  );
}

/** The unpaused and the paused series side by side: what the pause takes off each layer, and the publish. */
function pauseEffect(rounds: CommerceRound[], pauseMs: number): string {
  const per = (f: (r: CommerceRound) => number, fmt: (x: number) => string) => spread(rounds.map(f), fmt);
  const x = (v: number) => `${v.toFixed(2)}x`;
  const pct = (a: number, b: number) => (b === 0 ? "—" : `${((100 * a) / b).toFixed(0)}%`);
  const layer = (name: string, f: (l: Layers) => (r: CommerceRound) => Load) => [
    name,
    per((r) => f(UNPAUSED)(r).p50, ms),
    per((r) => f(PAUSED)(r).p50, ms),
    per((r) => f(UNPAUSED)(r).p50 - f(PAUSED)(r).p50, signedMs),
  ];
  const sideBySide = table(
    ["serial request", "p50 ms, no pause", `p50 ms, ${pauseMs} ms pause`, "no pause − pause, ms"],
    [
      layer("floor `GET /ping`", (l) => l.floorHttp),
      layer("floor order", (l) => l.floor),
      layer("route `GET /__bare`", (l) => l.bare),
      layer("route `GET /v1/wallet`", (l) => l.wallet),
      layer("route `POST /v1/orders`", (l) => l.order),
      [
        "order − wallet (the order's own step)",
        per((r) => UNPAUSED.order(r).p50 - UNPAUSED.wallet(r).p50, signedMs),
        per((r) => PAUSED.order(r).p50 - PAUSED.wallet(r).p50, signedMs),
        per(
          (r) => UNPAUSED.order(r).p50 - UNPAUSED.wallet(r).p50 - (PAUSED.order(r).p50 - PAUSED.wallet(r).p50),
          signedMs,
        ),
      ],
      [
        "order / floor order (same pause)",
        per((r) => UNPAUSED.order(r).p50 / UNPAUSED.floor(r).p50, x),
        per((r) => PAUSED.order(r).p50 / PAUSED.floor(r).p50, x),
        "—",
      ],
      [
        "order / unpaused floor order",
        per((r) => UNPAUSED.order(r).p50 / UNPAUSED.floor(r).p50, x),
        per((r) => PAUSED.order(r).p50 / UNPAUSED.floor(r).p50, x),
        "—",
      ],
    ],
  );
  const pub = (g: (r: CommerceRound) => PublishStats | undefined, name: string) => {
    const ps = rounds.map(g).filter((p): p is PublishStats => p !== undefined);
    const sum = (f: (p: PublishStats) => number) => ps.reduce((a, p) => a + f(p), 0);
    const p50s = (f: (p: PublishStats) => { n: number; p50: number }) => {
      const xs = ps.filter((p) => f(p).n > 0).map((p) => f(p).p50);
      return xs.length ? `${spread(xs, ms)} (${sum((p) => f(p).n)})` : "— (0)";
    };
    return [
      name,
      `${sum((p) => p.matched)}/${sum((p) => p.orders)}, ${sum((p) => p.unpublished)} unpublished`,
      `${spread(
        ps.map((p) => p.lagP50),
        (v) => v.toFixed(2),
      )}; p90 ${median(ps.map((p) => p.lagP90)).toFixed(2)}`,
      `${sum((p) => p.overlapped)}/${sum((p) => p.followed)} (${pct(
        sum((p) => p.overlapped),
        sum((p) => p.followed),
      )})`,
      p50s((p) => p.duringPublish),
      p50s((p) => p.clear),
    ];
  };
  const publish = table(
    [
      "serial orders",
      "outbox rows found / 201s",
      "201 → `published_at`, ms: p50 (min–max), p90",
      "next request sent before `published_at`",
      "p50 ms of orders sent during the previous order's publish (n)",
      "p50 ms of the others (n)",
    ],
    [pub((r) => r.publish.unpaused, "no pause"), pub((r) => r.publish.paused, `${pauseMs} ms pause`)],
  );
  return [
    `The same serial targets again in the same turns, each request after a ${pauseMs} ms pause (not timed), so that no outbox publish is in flight when it is sent (paused and unpaused groups take turns; the paused ones never directly follow an unpaused order). Each cell: median over rounds of the per-round figure (min–max).`,
    "",
    sideBySide,
    "",
    "The publish after each serial order, read back from the tenant's file: each 201's `order.paid` outbox row, whose `published_at` is the worker's `Date.now()` after the claim (`UPDATE … RETURNING`, one round trip) and the queue send, just before `markPublished`'s round trip; times against the client's wall clock (same machine; `published_at` is floored to the millisecond, so the lag reads ~0.5 ms low). Counts summed over rounds.",
    "",
    publish,
  ].join("\n");
}

export function commerceReport(
  rounds: CommerceRound[],
  m: Machine,
  s: CommerceSettings,
  notes: string[],
): { markdown: string; goalMet: boolean } {
  const label: Record<Workload, string> = {
    serial: `serial: 1 user, ${s.serial} orders, 1 connection`,
    burst: `parallel: ${s.users} users, 1 order each at once`,
    sustained: `sustained: ${s.connections} connections over ${s.users} users, ${s.seconds} s`,
  };
  const ratios = (w: Workload) => rounds.map((r) => r.loads[w].route.p50 / r.loads[w].floor.p50);
  const rows = WORKLOADS.map((w) => {
    const c = rounds.map((r) => r.loads[w]);
    return [
      label[w],
      spread(
        c.map((x) => x.route.p50),
        ms,
      ),
      ms(median(c.map((x) => x.route.p99))),
      median(c.map((x) => x.route.ordersPerSecond)).toFixed(0),
      spread(
        c.map((x) => x.floor.p50),
        ms,
      ),
      ms(median(c.map((x) => x.floor.p99))),
      median(c.map((x) => x.floor.ordersPerSecond)).toFixed(0),
      spread(ratios(w), (x) => `${x.toFixed(2)}x`),
      rounds.map((r) => answers(r, w)).join("; "),
    ];
  });
  const serialRatio = median(ratios("serial"));
  const goalMet = serialRatio <= 2;
  const failures = rounds.flatMap((r, i) => r.failures.map((f) => `round ${i + 1}: ${f}`));
  const unexpected = rounds.flatMap((r, i) => r.unexpected.map((f) => `round ${i + 1}: ${f}`));
  const retryable = rounds.reduce(
    (a, r) => a + WORKLOADS.reduce((b, w) => b + r.loads[w].route.retryable.length, 0),
    0,
  );
  const retriedBy = (st: string) =>
    rounds.reduce((a, r) => a + WORKLOADS.reduce((b, w) => b + (r.retries[w]?.statuses[st] ?? 0), 0), 0);
  const markdown = [
    `## Commerce benchmark: wallet orders (POST /v1/orders), ${s.users + 1} users`,
    "",
    `Machine: ${m.nproc} CPUs (${m.cpu}), Node ${m.node}, ${m.workerd}, commit ${m.commit}; load average (1/5/15 min) before ${m.load}, after ${m.loadAfter}. Date ${m.date}.`,
    `Settings: ${s.rounds} rounds, each: serial (bare, wallet, order route, floor ping, floor order${s.pauseMs > 0 ? `, then the same five each with a ${s.pauseMs} ms pause before every request` : ""} in chunks of 10, interleaved A B C …, … C B A), then the parallel burst and the sustained load, route and floor in turn (order reversed every other round). A route order answering 503 \`temporarily_unavailable\` is counted apart and sent again once, with the same Idempotency-Key and body, right after its workload.`,
    "",
    "Latency in ms: median over rounds of each round's p50 (min–max) and p99; orders/s = 201s per second (serial: per second spent in that target's requests); ratio = route p50 / floor p50 per round, median (min–max). Route answers per round: 201s/requests, then any 503s and what their retry answered.",
    "",
    table(
      [
        "workload",
        "route p50",
        "route p99",
        "route orders/s",
        "floor p50",
        "floor p99",
        "floor orders/s",
        "p50 ratio",
        "route answers per round",
      ],
      rows,
    ),
    "",
    `Goal: one-user (serial) p50 ≤ 2x the floor: ${serialRatio.toFixed(2)}x, **${goalMet ? "met" : "not met"}**.`,
    "",
    "Where the serial order's time goes (same rounds, same connections, interleaved; step = median over rounds of the per-round difference of p50s, min–max in brackets):",
    "",
    decomposition(rounds, UNPAUSED, ""),
    "",
    ...(s.pauseMs > 0 && rounds.every((r) => r.paused)
      ? [
          `The same decomposition with a ${s.pauseMs} ms pause before every request (ratio to the paused floor order):`,
          "",
          decomposition(rounds, PAUSED, ` (${s.pauseMs} ms pause)`),
          "",
          pauseEffect(rounds, s.pauseMs),
          "",
        ]
      : []),
    `Invariants after every round (reconciliation without inconsistencies and every currency summing to 0, user balances = ${s.users + 1} × start − 201s × price, revenue = 201s × price, the serial user's balance, order rows = 201s, retries' 201s included): ${failures.length === 0 ? "**all held**" : "**FAILED**"}; order rows after the last round ${rounds.at(-1)?.orderRows ?? 0} = route 201s ${rounds.at(-1)?.created ?? 0} (warm-up included).`,
    "",
    `Retryable answers: ${retryable} route orders answered 503 \`temporarily_unavailable\` (nothing applied); sent again once with the same key and body: ${retriedBy("201")} × 201, ${retriedBy("402")} × 402, ${retryable - retriedBy("201") - retriedBy("402")} other. Unexpected answers (neither 201 nor a retryable 503; retries answering neither 201 nor 402; probes not 200): ${unexpected.length === 0 ? "**none**" : `**${unexpected.length}**`}.`,
    "",
    ...failures.map((f) => `- ${f}`),
    ...unexpected.map((f) => `- ${f}`),
    ...notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
  return { markdown, goalMet };
}
