/**
 * `npm run bench:commerce [-- --rounds 3 --serial 200 --seconds 10 --quick --no-build --keep]`
 *
 * Builds the bundle, serves it with raw workerd next to the local libSQL server, sets up tenant
 * `commerce-a` (stack.ts: an owner, one 1 CNY product, 1,001 funded users) and measures
 * `POST /v1/orders` in interleaved rounds against the same two batches run in-process on
 * `libsql` (floor.ts): one user's serial orders, 1,000 users' orders at once, and 100
 * connections cycling over the 1,000 users. The serial turns also time, on the same connections,
 * `GET /__bare`, `GET /v1/wallet` (auth + one tenant DB read) and the floor's `GET /ping`, to
 * decompose the route's cost; with `--serial-pause-ms N` (default 5, 0: off) the same five serial
 * targets run again in the same turns with an N ms pause before each request, so that the
 * outbox publish after each order has finished before the next request, and the serial orders'
 * `order.paid` outbox rows are read back to time the publish (publish.ts). A 503 `temporarily_unavailable` order is counted apart and sent
 * again once with the same key and body after its workload. After each round it checks the
 * ledger and the order count. Prints markdown and writes it to bench/results/commerce-<timestamp>.md.
 */
import { Agent } from "node:http";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Database from "libsql";
import { inScratch, runMain } from "../entry";
import { machine } from "../machine";
import { send } from "../measure";
import { stopAll } from "../processes";
import { progress } from "../servers";
import { intOption, RUN_OPTIONS, type RunOptions, runOptions } from "../options";
import { roundsUnderLoad, workerdWarnings, writeResults } from "../record";
import { burst, type Load, type OrderTarget, retry, serial, sustained } from "./orders";
import { type PublishStats, publishStats } from "./publish";
import { type CommerceRound, commerceReport, type CommerceSettings, type Probe, type Workload } from "./report";
import { type CommerceStack, PRICE, START_BALANCE, startCommerceStack, TENANT, USERS } from "./stack";

const root = new URL("../..", import.meta.url).pathname;

type Options = CommerceSettings & RunOptions;

function parse(): Options {
  const { values } = parseArgs({
    options: {
      rounds: { type: "string" },
      serial: { type: "string" },
      seconds: { type: "string" },
      "serial-pause-ms": { type: "string" },
      quick: { type: "boolean", default: false },
      ...RUN_OPTIONS,
    },
    strict: true,
  });
  const q = values.quick;
  return {
    rounds: intOption("rounds", values.rounds, q ? 3 : 5, 1, 20),
    serial: intOption("serial", values.serial, q ? 100 : 200, 10, 5_000),
    seconds: intOption("seconds", values.seconds, q ? 5 : 10, 1, 120),
    pauseMs: intOption("serial-pause-ms", values["serial-pause-ms"], 5, 0, 1_000),
    users: USERS - 1,
    connections: 100,
    ...runOptions(values),
  };
}

const BODY = (productId: string) => JSON.stringify({ items: [{ productId }], pay: "wallet" });

interface Targets extends Record<Probe, OrderTarget> {
  route: OrderTarget;
  floor: OrderTarget;
}

function targets(stack: CommerceStack): Targets {
  const body = BODY(stack.productId);
  const bearer = (u: number) => ({ "x-tenant": TENANT, authorization: `Bearer ${stack.users[u]!.accessToken}` });
  return {
    bare: { name: "bare", origin: stack.workerOrigin, path: () => "/__bare", headers: () => ({}) },
    wallet: { name: "wallet", origin: stack.workerOrigin, path: () => "/v1/wallet", headers: bearer },
    floorHttp: { name: "floorHttp", origin: stack.floorOrigin, path: () => "/ping", headers: () => ({}) },
    route: {
      name: "route",
      origin: stack.workerOrigin,
      path: () => "/v1/orders",
      headers: (u) => ({ "x-tenant": TENANT, authorization: `Bearer ${stack.users[u]!.accessToken}` }),
      body,
    },
    floor: {
      name: "floor",
      origin: stack.floorOrigin,
      path: (u) => `/order/${u}`,
      headers: (u) => ({ "x-tenant": TENANT, authorization: `Bearer ${stack.users[u]!.accessToken}` }),
      body,
    },
  };
}

async function getJson(stack: CommerceStack, path: string, token: string): Promise<unknown> {
  const agent = new Agent({ keepAlive: false });
  try {
    const r = await send(
      agent,
      {
        name: path,
        origin: stack.workerOrigin,
        method: "GET",
        path,
        headers: { "x-tenant": TENANT, authorization: `Bearer ${token}` },
      },
      30_000,
    );
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as unknown;
  } finally {
    agent.destroy();
  }
}

interface Reconciliation {
  currencies: { currency: string; entriesSum: number; userBalances: number; systemAccounts: Record<string, number> }[];
  inconsistencies: unknown[];
}

/** The checks after a round; `created` is every route 201 so far, `serialCreated` the serial user's. */
async function check(
  stack: CommerceStack,
  created: number,
  serialCreated: number,
): Promise<{ failures: string[]; orderRows: number }> {
  const failures: string[] = [];
  const rec = (await getJson(stack, "/v1/admin/ledger/reconciliation", stack.ownerToken)) as Reconciliation;
  if (rec.inconsistencies.length > 0)
    failures.push(`reconciliation: ${JSON.stringify(rec.inconsistencies.slice(0, 3))}`);
  for (const c of rec.currencies) {
    const system = Object.values(c.systemAccounts).reduce((a, b) => a + b, 0);
    if (c.entriesSum !== 0 || c.userBalances + system !== 0)
      failures.push(`${c.currency}: entries sum ${c.entriesSum}, users + system ${c.userBalances + system}`);
  }
  const cny = rec.currencies.find((c) => c.currency === "CNY");
  const users = USERS * START_BALANCE - created * PRICE;
  if (cny?.userBalances !== users) failures.push(`user balances ${cny?.userBalances}, expected ${users}`);
  if (cny?.systemAccounts.revenue !== created * PRICE)
    failures.push(`revenue ${cny?.systemAccounts.revenue}, expected ${created * PRICE}`);
  const wallet = (await getJson(stack, "/v1/wallet", stack.users[0]!.accessToken)) as {
    balances: { currency: string; available: number }[];
  };
  const mine = wallet.balances.find((b) => b.currency === "CNY")?.available;
  if (mine !== START_BALANCE - serialCreated * PRICE)
    failures.push(`serial user's balance ${mine}, expected ${START_BALANCE - serialCreated * PRICE}`);
  const db = new Database(stack.file, { readonly: true });
  let orderRows: number;
  try {
    orderRows = Number((db.prepare("SELECT count(*) FROM orders").raw(true).get() as [number])[0]);
  } finally {
    db.close();
  }
  if (orderRows !== created) failures.push(`order rows ${orderRows}, route 201s ${created}`);
  return { failures, orderRows };
}

/** Every user calls whoami once: tokens verified and cached, hubs awake, as for users online. */
async function warmUsers(stack: CommerceStack): Promise<void> {
  for (let from = 0; from < stack.users.length; from += 100)
    await Promise.all(stack.users.slice(from, from + 100).map((u) => getJson(stack, "/v1/auth/whoami", u.accessToken)));
}

const totals = { created: 0, serialCreated: 0 };

type SerialKey = keyof Targets | `paused ${keyof Targets}`;

/**
 * The serial turns' targets, in turn order: the route's side (bare, wallet, order), then the
 * floor's; then, when `pauseMs` > 0, the same five again, each request after a pause of
 * `pauseMs` (grouped, so that a paused request never directly follows an unpaused order).
 */
const serialOrder = (t: Targets, pauseMs: number): [SerialKey, OrderTarget][] => {
  const list: [keyof Targets, OrderTarget][] = [
    ["bare", t.bare],
    ["wallet", t.wallet],
    ["route", t.route],
    ["floorHttp", t.floorHttp],
    ["floor", t.floor],
  ];
  if (pauseMs === 0) return list;
  return [
    ...list,
    ...list.map(([k, x]): [SerialKey, OrderTarget] => [`paused ${k}`, { ...x, name: `${x.name} paused`, pauseMs }]),
  ];
};

/** One serial run of `n` per target, reversed turn order when `reverse`; the loads by target. */
async function serialAll(
  t: Targets,
  n: number,
  reverse: boolean,
  pauseMs: number,
): Promise<Partial<Record<SerialKey, Load>> & Record<keyof Targets, Load>> {
  const list = serialOrder(t, pauseMs);
  if (reverse) list.reverse();
  const loads = await serial(
    list.map(([, x]) => x),
    0,
    n,
  );
  return Object.fromEntries(list.map(([k], i) => [k, loads[i]!])) as Partial<Record<SerialKey, Load>> &
    Record<keyof Targets, Load>;
}

async function round(stack: CommerceStack, i: number, s: Options): Promise<CommerceRound> {
  const t = targets(stack);
  const { route, floor } = t;
  const reverse = i % 2 === 1;
  const retries: CommerceRound["retries"] = {};
  /** The route's 503 `temporarily_unavailable` orders of workload `w`, sent again once, at once. */
  const retried = async (w: Workload, l: Load): Promise<Load> => {
    if (l.retryable.length > 0) retries[w] = await retry(route, l.retryable);
    return l;
  };
  const pair =
    (w: Workload, f: (t: OrderTarget) => Promise<Load>) => async (): Promise<{ route: Load; floor: Load }> => {
      if (reverse) {
        const fl = await f(floor);
        return { floor: fl, route: await retried(w, await f(route)) };
      }
      const r = await retried(w, await f(route));
      return { route: r, floor: await f(floor) };
    };
  const sl = await serialAll(t, s.serial, reverse, s.pauseMs);
  await retried("serial", sl.route);
  const pausedRoute = sl["paused route"];
  const paused: CommerceRound["paused"] = pausedRoute
    ? {
        route: pausedRoute,
        floor: sl["paused floor"]!,
        probes: { bare: sl["paused bare"]!, wallet: sl["paused wallet"]!, floorHttp: sl["paused floorHttp"]! },
      }
    : undefined;
  // Let the last order's publish finish, then match the serial orders to their outbox rows.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const [unpausedPublish, pausedPublish] = publishStats(stack.file, stack.users[0]!.userId, [
    sl.route.timeline ?? [],
    pausedRoute?.timeline ?? [],
  ]);
  const publish: CommerceRound["publish"] = {
    unpaused: unpausedPublish!,
    ...(pausedRoute ? { paused: pausedPublish! } : {}),
  };
  const parallelUsers = Array.from({ length: s.users }, (_, k) => k + 1);
  const loads: CommerceRound["loads"] = {
    serial: { route: sl.route, floor: sl.floor },
    burst: await pair("burst", (x) => burst(x, parallelUsers))(),
    sustained: await pair("sustained", (x) => sustained(x, parallelUsers, s.connections, s.seconds))(),
  };
  const probes: CommerceRound["probes"] = { bare: sl.bare, wallet: sl.wallet, floorHttp: sl.floorHttp };
  const retriedCreated = (w: Workload) => retries[w]?.created ?? 0;
  for (const w of ["serial", "burst", "sustained"] as Workload[])
    totals.created += loads[w].route.created + retriedCreated(w);
  totals.serialCreated += loads.serial.route.created + retriedCreated("serial");
  if (paused) {
    totals.created += paused.route.created;
    totals.serialCreated += paused.route.created;
  }
  const { failures, orderRows } = await check(stack, totals.created, totals.serialCreated);
  const unexpected: string[] = [];
  for (const w of ["serial", "burst", "sustained"] as Workload[]) {
    for (const side of ["route", "floor"] as const) {
      const l = loads[w][side];
      if (l.unexpected > 0)
        unexpected.push(
          `${w} ${side}: ${l.unexpected} unexpected, ${JSON.stringify(l.statuses)}, first: ${l.firstBad}`,
        );
    }
    const r = retries[w];
    if (r) {
      const fine = (r.statuses["201"] ?? 0) + (r.statuses["402"] ?? 0);
      if (fine !== r.n)
        unexpected.push(`${w} retry: ${JSON.stringify(r.statuses)}, first: ${r.firstBad ?? "a 503 again"}`);
    }
  }
  const allProbes: [string, Load][] = [
    ...Object.entries(probes),
    ...(paused
      ? ([
          ["paused order", paused.route],
          ["paused floor order", paused.floor],
          ...Object.entries(paused.probes).map(([k, l]): [string, Load] => [`paused ${k}`, l]),
        ] as [string, Load][])
      : []),
  ];
  for (const [k, l] of allProbes)
    if (l.unexpected > 0 || l.ok !== l.n || l.retryable.length > 0)
      unexpected.push(`${k}: ${JSON.stringify(l.statuses)}, first: ${l.firstBad}`);
  return {
    loads,
    probes,
    ...(paused ? { paused } : {}),
    publish,
    retries,
    failures,
    unexpected,
    created: totals.created,
    orderRows,
  };
}

function summary(r: CommerceRound): string {
  const m = (l: Load) => (l.p50 / 1000).toFixed(2);
  const f = (w: Workload) =>
    `${w} p50 ${m(r.loads[w].route)}/${m(r.loads[w].floor)} ms, ${r.loads[w].route.ordersPerSecond.toFixed(0)}/${r.loads[w].floor.ordersPerSecond.toFixed(0)} orders/s`;
  const p = r.probes;
  const retryable = (["serial", "burst", "sustained"] as Workload[])
    .map((w) => {
      const q = r.retries[w];
      return q ? `${w} ${q.n} × 503 → retry ${JSON.stringify(q.statuses)}` : "";
    })
    .filter(Boolean)
    .join(", ");
  const q = r.paused;
  const pub = (x: PublishStats | undefined) =>
    x
      ? `201 → published_at p50 ${x.lagP50.toFixed(2)} ms, next request during publish ${x.overlapped}/${x.followed}`
      : "";
  return [
    `serial p50 bare ${m(p.bare)}, wallet ${m(p.wallet)}, floor http ${m(p.floorHttp)} ms`,
    q
      ? `paused (${q.route.n}): bare ${m(q.probes.bare)}, wallet ${m(q.probes.wallet)}, order ${m(q.route)}, floor http ${m(q.probes.floorHttp)}, floor order ${m(q.floor)} ms`
      : "",
    `publish unpaused: ${pub(r.publish.unpaused)}; paused: ${pub(r.publish.paused) || "—"}`,
    f("serial"),
    f("burst"),
    f("sustained"),
    `retryable: ${retryable || "none"}`,
    `invariants ${r.failures.length ? r.failures.join(" | ") : "ok"}`,
    `answers ${r.unexpected.length ? r.unexpected.join(" | ") : "ok"}`,
  ]
    .filter(Boolean)
    .join("; ");
}

async function main(): Promise<number> {
  const s = parse();
  const pausing = 5 * (s.serial + 20) * s.pauseMs; // ms: the paused targets' sleeps, warm-up included
  const limitMs = (420 + s.rounds * (60 + s.serial * 0.1 + 2 * s.seconds)) * 1000 + (s.rounds + 1) * pausing;
  const bundle = join(root, "dist/index.js");
  return inScratch(root, s, { name: "commerce-", limitMs, bundle }, async (scratch) => {
    const stack = await startCommerceStack(root, scratch, bundle);

    progress("warming up: one whoami per user, 20 serial requests per target");
    await warmUsers(stack);
    const warm = await serialAll(targets(stack), 20, false, s.pauseMs);
    const warmCreated = warm.route.created + (warm["paused route"]?.created ?? 0);
    totals.created += warmCreated;
    totals.serialCreated += warmCreated;
    if (warm.route.retryable.length > 0 || warm.route.unexpected > 0)
      progress(`warm-up route answers ${JSON.stringify(warm.route.statuses)} (not retried; nothing applied on a 503)`);

    const { rounds, load, loadAfter } = await roundsUnderLoad(s.rounds, (i) => round(stack, i, s), summary);
    await stopAll();

    const notes = workerdWarnings(stack.workerdLog);
    const { markdown, goalMet } = commerceReport(rounds, machine(root, load, loadAfter), s, notes);
    writeResults(root, "commerce-", markdown);
    const checksHeld = rounds.every((r) => r.failures.length === 0 && r.unexpected.length === 0);
    return (goalMet && checksHeld) || !s.strict ? (checksHeld ? 0 : 4) : 3;
  });
}

runMain(main);
