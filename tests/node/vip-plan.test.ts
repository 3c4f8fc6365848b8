import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DAY_MS,
  levelAt,
  planPurchase,
  planRevoke,
  type VipPeriod,
  type VipPlan,
  type VipPurchase,
} from "../../src/workers/commerce/vip-plan";

const T0 = Date.UTC(2025, 0, 1);
const HOUR_MS = 3_600_000;

/** Ids p1, p2, … in the order the planner draws them. */
function idSource(prefix = "p"): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}

/** A period of `days` days starting `startDay` days after T0, paid in CNY unless told otherwise. */
function period(id: string, level: number, startDay: number, days: number, extra: Partial<VipPeriod> = {}): VipPeriod {
  return {
    id,
    level,
    startsAt: T0 + startDay * DAY_MS,
    endsAt: T0 + (startDay + days) * DAY_MS,
    valueAmount: 3000n,
    valueCurrency: "CNY",
    source: "order",
    orderId: `order-${id}`,
    ...extra,
  };
}

function purchase(
  level: number,
  days: number,
  valueAmount: bigint,
  orderId: string,
  valueCurrency = "CNY",
): VipPurchase {
  return { level, days, valueAmount, valueCurrency, orderId };
}

function apply(existing: readonly VipPeriod[], plan: VipPlan): VipPeriod[] {
  const revoked = new Set(plan.revoke);
  return [...existing.filter((p) => !revoked.has(p.id)), ...plan.add].sort((a, b) => a.startsAt - b.startsAt);
}

/** Periods sorted by start, without ids, for comparing schedules. */
function shape(periods: readonly VipPeriod[]) {
  return [...periods].sort((a, b) => a.startsAt - b.startsAt).map(({ id: _id, ...rest }) => rest);
}

function expectNoOverlap(periods: readonly VipPeriod[]): void {
  const sorted = [...periods].sort((a, b) => a.startsAt - b.startsAt);
  for (const [i, p] of sorted.entries()) {
    expect(p.endsAt).toBeGreaterThan(p.startsAt);
    const next = sorted[i + 1];
    if (next) expect(next.startsAt).toBeGreaterThanOrEqual(p.endsAt);
  }
}

/** Time the schedule still holds after `now`. */
function futureMs(periods: readonly VipPeriod[], now: number): number {
  return periods.reduce((sum, p) => sum + Math.max(0, p.endsAt - Math.max(p.startsAt, now)), 0);
}

/** Time between now and the end of the schedule that no period covers (only admin grants make gaps). */
function gapMs(periods: readonly VipPeriod[], now: number): number {
  const end = Math.max(now, ...periods.map((p) => p.endsAt));
  return end - now - futureMs(periods, now);
}

describe("levelAt", () => {
  it("no running period is level 0 with since and expiresAt null", () => {
    expect(levelAt([], T0)).toEqual({ level: 0, since: null, expiresAt: null });
    const ended = [period("a", 1, 0, 30)];
    expect(levelAt(ended, T0 + 30 * DAY_MS)).toEqual({ level: 0, since: null, expiresAt: null });
  });

  it("a running period is its level from its start to its end, half-open", () => {
    const periods = [period("a", 1, 0, 30)];
    const running = { level: 1, since: T0, expiresAt: T0 + 30 * DAY_MS };
    expect(levelAt(periods, T0)).toEqual(running);
    expect(levelAt(periods, T0 + 30 * DAY_MS - 1)).toEqual(running);
    expect(levelAt(periods, T0 - 1).level).toBe(0);
  });

  it("since and expiresAt span the touching periods of the current level, not the lower ones after", () => {
    const periods = [period("a", 1, 0, 10), period("b", 2, 10, 10), period("c", 2, 20, 10), period("d", 1, 30, 10)];
    expect(levelAt(periods, T0 + 25 * DAY_MS)).toEqual({
      level: 2,
      since: T0 + 10 * DAY_MS,
      expiresAt: T0 + 30 * DAY_MS,
    });
    expect(levelAt(periods, T0 + 30 * DAY_MS)).toEqual({
      level: 1,
      since: T0 + 30 * DAY_MS,
      expiresAt: T0 + 40 * DAY_MS,
    });
  });

  it("a gap ends the chain", () => {
    const periods = [period("a", 1, 0, 10), period("b", 1, 11, 10)];
    expect(levelAt(periods, T0 + 5 * DAY_MS).expiresAt).toBe(T0 + 10 * DAY_MS);
    expect(levelAt(periods, T0 + 12 * DAY_MS).since).toBe(T0 + 11 * DAY_MS);
  });
});

describe("planPurchase", () => {
  it("a first purchase starts now", () => {
    const now = T0 + 123;
    const plan = planPurchase([], purchase(1, 30, 3000n, "o1"), now, idSource());
    expect(plan).toEqual({
      add: [
        {
          id: "p1",
          level: 1,
          startsAt: now,
          endsAt: now + 30 * DAY_MS,
          valueAmount: 3000n,
          valueCurrency: "CNY",
          source: "order",
          orderId: "o1",
        },
      ],
      revoke: [],
    });
  });

  it("extending twice at the same level adds twice the days to the chain", () => {
    let periods = apply([], planPurchase([], purchase(1, 30, 3000n, "o1"), T0, idSource("a")));
    const now = T0 + 5 * DAY_MS;
    periods = apply(periods, planPurchase(periods, purchase(1, 30, 3000n, "o2"), now, idSource("b")));
    periods = apply(periods, planPurchase(periods, purchase(1, 30, 3000n, "o3"), now, idSource("c")));
    expectNoOverlap(periods);
    expect(periods.map((p) => [p.orderId, p.startsAt - T0, p.endsAt - T0])).toEqual([
      ["o1", 0, 30 * DAY_MS],
      ["o2", 30 * DAY_MS, 60 * DAY_MS],
      ["o3", 60 * DAY_MS, 90 * DAY_MS],
    ]);
    expect(levelAt(periods, now)).toEqual({ level: 1, since: T0, expiresAt: T0 + 90 * DAY_MS });
  });

  it("extending the current level pushes the lower levels queued after it later by the new days", () => {
    const gold = period("gold", 2, 0, 30);
    const silver = period("silver", 1, 30, 30, { valueAmount: 1000n });
    const now = T0 + DAY_MS;
    const plan = planPurchase([gold, silver], purchase(2, 10, 3000n, "o2"), now, idSource());
    expect(plan.revoke).toEqual(["silver"]);
    expect(shape(apply([gold, silver], plan))).toEqual(
      shape([
        gold,
        period("x", 2, 30, 10, { orderId: "o2" }),
        period("x", 1, 40, 30, { valueAmount: 1000n, orderId: "order-silver" }),
      ]),
    );
  });

  it("gold over 10 remaining days of silver converts them at the paid value (the documented example)", () => {
    const silver = period("silver", 1, 0, 30);
    const now = T0 + 20 * DAY_MS;
    const plan = planPurchase([silver], purchase(2, 30, 9000n, "gold"), now, idSource());
    // floor(10 d × 3000 × 30 d / (30 d × 9000)) = 10 d / 3 = 3 d 8 h
    const extraMs = 288_000_000;
    expect(extraMs).toBe(Math.floor((10 * DAY_MS) / 3));
    expect(plan).toEqual({
      add: [
        { ...silver, id: "p1", endsAt: now, valueAmount: 2000n },
        {
          id: "p2",
          level: 2,
          startsAt: now,
          endsAt: now + 30 * DAY_MS,
          valueAmount: 9000n,
          valueCurrency: "CNY",
          source: "order",
          orderId: "gold",
        },
        {
          id: "p3",
          level: 2,
          startsAt: now + 30 * DAY_MS,
          endsAt: now + 30 * DAY_MS + extraMs,
          valueAmount: 1000n,
          valueCurrency: "CNY",
          source: "conversion",
          orderId: "order-silver",
        },
      ],
      revoke: ["silver"],
    });
    const after = apply([silver], plan);
    expect(levelAt(after, now)).toEqual({ level: 2, since: now, expiresAt: now + 30 * DAY_MS + extraMs });
    expect(levelAt(after, now + 30 * DAY_MS + extraMs).level).toBe(0);
  });

  it("queued lower periods convert whole, each into its own conversion period in schedule order", () => {
    const silver = period("s1", 1, 0, 30);
    const gold = period("g1", 2, 30, 30, { valueAmount: 9000n });
    const silver2 = period("s2", 1, 60, 30, { valueAmount: 1500n });
    const now = T0 + 20 * DAY_MS;
    // Diamond: 10 days for 9000, so gold's 30 days at 9000 are worth its 10 days.
    const plan = planPurchase([gold, silver2, silver], purchase(3, 10, 9000n, "d1"), now, idSource());
    expect(plan.revoke).toEqual(["s1", "g1", "s2"]);
    const after = apply([silver, gold, silver2], plan);
    expectNoOverlap(after);
    const future = after.filter((p) => p.endsAt > now);
    expect(future.map((p) => [p.level, p.source, p.orderId, p.endsAt - p.startsAt, p.valueAmount])).toEqual([
      [3, "order", "d1", 10 * DAY_MS, 9000n],
      [3, "conversion", "order-s1", Math.floor((10 * DAY_MS * 3000 * 10) / (30 * 9000)), 1000n],
      [3, "conversion", "order-g1", 10 * DAY_MS, 9000n],
      [3, "conversion", "order-s2", Math.floor((10 * DAY_MS) / 6), 1500n],
    ]);
    expect(future[0]?.startsAt).toBe(now);
    expect(levelAt(after, now).expiresAt).toBe(future.at(-1)?.endsAt);
  });

  it("silver bought under gold starts where the whole schedule ends", () => {
    const gold = period("gold", 2, 0, 30);
    const queued = period("silver", 1, 30, 30);
    const plan = planPurchase([gold, queued], purchase(1, 30, 3000n, "o2"), T0 + DAY_MS, idSource());
    expect(plan.revoke).toEqual([]);
    expect(plan.add.map((p) => [p.startsAt - T0, p.endsAt - T0])).toEqual([[60 * DAY_MS, 90 * DAY_MS]]);
    expect(levelAt(apply([gold, queued], plan), T0 + DAY_MS)).toEqual({
      level: 2,
      since: T0,
      expiresAt: T0 + 30 * DAY_MS,
    });
  });

  it("a free period is deferred after the new level, not converted", () => {
    const free = period("free", 1, 0, 30, { valueAmount: 0n, valueCurrency: null, source: "admin", orderId: null });
    const now = T0 + 20 * DAY_MS;
    const plan = planPurchase([free], purchase(2, 30, 9000n, "gold"), now, idSource());
    expect(plan.revoke).toEqual(["free"]);
    expect(shape(apply([free], plan))).toEqual(
      shape([
        { ...free, endsAt: now },
        { ...period("x", 2, 20, 30, { valueAmount: 9000n, orderId: "gold" }) },
        { ...free, startsAt: now + 30 * DAY_MS, endsAt: now + 40 * DAY_MS },
      ]),
    );
  });

  it("a period paid in another currency is deferred with its share of the value", () => {
    const usd = period("usd", 1, 0, 30, { valueCurrency: "USD" });
    const queuedUsd = period("usd2", 1, 30, 30, { valueCurrency: "USD" });
    const now = T0 + 20 * DAY_MS;
    const plan = planPurchase([usd, queuedUsd], purchase(2, 30, 9000n, "gold"), now, idSource());
    expect(plan.revoke).toEqual(["usd", "usd2"]);
    expect(shape(apply([usd, queuedUsd], plan))).toEqual(
      shape([
        { ...usd, endsAt: now, valueAmount: 2000n },
        { ...period("x", 2, 20, 30, { valueAmount: 9000n, orderId: "gold" }) },
        { ...usd, startsAt: now + 30 * DAY_MS, endsAt: now + 40 * DAY_MS, valueAmount: 1000n },
        { ...queuedUsd, startsAt: now + 40 * DAY_MS, endsAt: now + 70 * DAY_MS },
      ]),
    );
  });

  it("a free purchase of a higher level converts nothing and defers everything below it", () => {
    const silver = period("silver", 1, 0, 30);
    const now = T0 + 20 * DAY_MS;
    const after = apply([silver], planPurchase([silver], purchase(2, 5, 0n, "gift"), now, idSource()));
    expect(after.filter((p) => p.endsAt > now).map((p) => [p.level, p.source, p.endsAt - p.startsAt])).toEqual([
      [2, "order", 5 * DAY_MS],
      [1, "order", 10 * DAY_MS],
    ]);
  });

  it("an admin grant queued after a gap keeps the gap when an upgrade moves it", () => {
    const silver = period("silver", 1, 0, 30, { valueCurrency: "USD" });
    const grant = period("grant", 2, 40, 10, { valueAmount: 0n, valueCurrency: null, source: "admin", orderId: null });
    const now = T0 + 20 * DAY_MS;
    const plan = planPurchase([grant, silver], purchase(2, 30, 9000n, "gold"), now, idSource());
    expect(plan.revoke).toEqual(["silver", "grant"]);
    const future = apply([silver, grant], plan).filter((p) => p.endsAt > now);
    // gold [20, 50), the grant 10 days after it as it was 10 days after silver, then silver's rest.
    expect(future.map((p) => [p.level, p.source, (p.startsAt - T0) / DAY_MS, (p.endsAt - T0) / DAY_MS])).toEqual([
      [2, "order", 20, 50],
      [2, "admin", 60, 70],
      [1, "order", 70, 80],
    ]);
  });

  it("an upgrade at the exact start of the running period leaves no empty history row", () => {
    const silver = period("silver", 1, 0, 30);
    const plan = planPurchase([silver], purchase(2, 30, 9000n, "gold"), T0, idSource());
    expect(plan.revoke).toEqual(["silver"]);
    expect(plan.add.map((p) => [p.source, p.startsAt - T0, p.endsAt - T0])).toEqual([
      ["order", 0, 30 * DAY_MS],
      ["conversion", 30 * DAY_MS, 40 * DAY_MS],
    ]);
  });

  it("a remainder worth less than 1 ms of the new level is dropped", () => {
    const silver = period("silver", 1, 0, 30, { valueAmount: 1n });
    const now = T0 + 30 * DAY_MS - 1;
    const plan = planPurchase([silver], purchase(2, 1, 10n ** 12n, "gold"), now, idSource());
    expect(plan.revoke).toEqual(["silver"]);
    expect(plan.add.map((p) => p.source)).toEqual(["order", "order"]);
  });

  it("history is never revoked or moved", () => {
    const old = period("old", 1, 0, 10);
    const silver = period("silver", 1, 10, 30);
    const now = T0 + 15 * DAY_MS;
    for (const p of [purchase(1, 5, 100n, "a"), purchase(2, 5, 100n, "b")]) {
      const plan = planPurchase([old, silver], p, now, idSource());
      expect(plan.revoke).not.toContain("old");
    }
  });

  it("the plan does not depend on the order of the existing periods; ids come in start order", () => {
    const periods = [
      period("a", 1, 0, 30),
      period("b", 1, 30, 30, { valueCurrency: "USD" }),
      period("c", 2, 60, 30),
      period("d", 1, 90, 30, { valueAmount: 0n }),
    ];
    const now = T0 + 10 * DAY_MS;
    const p = purchase(3, 30, 9000n, "d");
    const plan = planPurchase(periods, p, now, idSource());
    expect(planPurchase([...periods].reverse(), p, now, idSource())).toEqual(plan);
    expect(plan.add.map((x) => x.id)).toEqual(plan.add.map((_, i) => `p${i + 1}`));
    expect(plan.add.map((x) => x.startsAt)).toEqual([...plan.add.map((x) => x.startsAt)].sort((x, y) => x - y));
  });

  it("refuses nonsense purchases", () => {
    expect(() => planPurchase([], purchase(0, 30, 1n, "o"), T0, idSource())).toThrow(RangeError);
    expect(() => planPurchase([], purchase(1, 0, 1n, "o"), T0, idSource())).toThrow(RangeError);
    expect(() => planPurchase([], purchase(1, 1.5, 1n, "o"), T0, idSource())).toThrow(RangeError);
    expect(() => planPurchase([], purchase(1, 30, -1n, "o"), T0, idSource())).toThrow(RangeError);
    expect(() => planPurchase([], purchase(1, 30, 1n, "o"), 8.64e15, idSource())).toThrow(RangeError);
  });
});

describe("planRevoke", () => {
  const a = period("a", 1, 0, 30, { orderId: "A" });
  const b = period("b", 1, 30, 30, { orderId: "B" });
  const c = period("c", 1, 60, 30, { orderId: "C" });

  it("refunding the middle order removes its days and pulls the later ones earlier", () => {
    const now = T0 + 10 * DAY_MS;
    const plan = planRevoke([a, b, c], "B", now, idSource());
    expect(plan.revoke).toEqual(["b", "c"]);
    expect(plan.add).toEqual([{ ...c, id: "p1", startsAt: T0 + 30 * DAY_MS, endsAt: T0 + 60 * DAY_MS }]);
    expect(levelAt(apply([a, b, c], plan), now).expiresAt).toBe(T0 + 60 * DAY_MS);
  });

  it("refunding the running order keeps its used part and starts the next one now", () => {
    const now = T0 + 10 * DAY_MS;
    const after = apply([a, b, c], planRevoke([a, b, c], "A", now, idSource()));
    expect(shape(after)).toEqual(
      shape([
        { ...a, endsAt: now, valueAmount: 1000n },
        { ...b, startsAt: now, endsAt: now + 30 * DAY_MS },
        { ...c, startsAt: now + 30 * DAY_MS, endsAt: now + 60 * DAY_MS },
      ]),
    );
  });

  it("refunding an order removes its conversion periods too", () => {
    const silver = period("silver", 1, 0, 30, { orderId: "S" });
    const now = T0 + 20 * DAY_MS;
    let periods = apply([silver], planPurchase([silver], purchase(2, 30, 9000n, "G"), now, idSource("g")));
    const later = now + DAY_MS;
    periods = apply(periods, planRevoke(periods, "S", later, idSource("r")));
    expectNoOverlap(periods);
    expect(periods.filter((p) => p.endsAt > later).map((p) => [p.orderId, p.source])).toEqual([["G", "order"]]);
    expect(levelAt(periods, later).expiresAt).toBe(now + 30 * DAY_MS);
  });

  it("an order with nothing left to remove plans nothing", () => {
    expect(planRevoke([a, b, c], "A", T0 + 30 * DAY_MS, idSource())).toEqual({ add: [], revoke: [] });
    expect(planRevoke([a, b, c], "nope", T0, idSource())).toEqual({ add: [], revoke: [] });
  });

  it("a gap before an untouched admin grant is kept", () => {
    const grant = period("grant", 1, 100, 10, { orderId: null, source: "admin", valueAmount: 0n });
    const plan = planRevoke([a, b, grant], "B", T0 + 10 * DAY_MS, idSource());
    expect(plan.add).toEqual([{ ...grant, id: "p1", startsAt: T0 + 70 * DAY_MS, endsAt: T0 + 80 * DAY_MS }]);
  });
});

type Op =
  | { kind: "buy"; level: number; days: number; value: bigint; currency: string; advance: number }
  | { kind: "refund"; pick: number; advance: number }
  | { kind: "grant"; level: number; days: number; gapDays: number; advance: number };

/** Time to move forward: a random span, or exactly to the current level's end (a boundary). */
const advanceArb = fc.oneof(fc.integer({ min: 0, max: 40 * DAY_MS }), fc.constant(-1));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("buy" as const),
      level: fc.integer({ min: 1, max: 3 }),
      days: fc.integer({ min: 1, max: 60 }),
      value: fc.bigInt({ min: 0n, max: 10_000n }),
      currency: fc.constantFrom("CNY", "USD"),
      advance: advanceArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("refund" as const), pick: fc.nat(), advance: advanceArb }),
  },
);

/** Admin grants queued after a gap (written directly, not planned), so moves must respect gaps. */
const grantArb = fc.record({
  kind: fc.constant("grant" as const),
  level: fc.integer({ min: 1, max: 3 }),
  days: fc.integer({ min: 1, max: 30 }),
  gapDays: fc.integer({ min: 1, max: 30 }),
  advance: advanceArb,
});

/** What the proration rules say a purchase adds to the future: its days plus conversions minus what they replace. */
function expectedFutureDelta(live: readonly VipPeriod[], p: VipPurchase, now: number): number {
  const durationMs = p.days * DAY_MS;
  if (p.level <= levelAt(live, now).level) return durationMs;
  let delta = durationMs;
  for (const q of live) {
    if (q.endsAt <= now || q.level >= p.level) continue;
    if (q.valueCurrency !== p.valueCurrency || q.valueAmount === 0n || p.valueAmount === 0n) continue;
    const remainingMs = q.endsAt - Math.max(q.startsAt, now);
    const periodMs = q.endsAt - q.startsAt;
    delta +=
      Number((BigInt(remainingMs) * q.valueAmount * BigInt(durationMs)) / (BigInt(periodMs) * p.valueAmount)) -
      remainingMs;
  }
  return delta;
}

function expectLevelConsistent(periods: readonly VipPeriod[], t: number): void {
  const at = levelAt(periods, t);
  if (at.level === 0) {
    expect(at).toEqual({ level: 0, since: null, expiresAt: null });
    return;
  }
  const { since, expiresAt } = at;
  if (since === null || expiresAt === null) throw new Error("level without since/expiresAt");
  expect(since).toBeLessThanOrEqual(t);
  expect(expiresAt).toBeGreaterThan(t);
  expect(levelAt(periods, since).level).toBe(at.level);
  expect(levelAt(periods, since - 1).level).not.toBe(at.level);
  expect(levelAt(periods, expiresAt - 1).level).toBe(at.level);
  expect(levelAt(periods, expiresAt).level).not.toBe(at.level);
}

function expectValidPlan(before: readonly VipPeriod[], plan: VipPlan, now: number): VipPeriod[] {
  const ids = new Set(before.map((p) => p.id));
  const byId = new Map(before.map((p) => [p.id, p]));
  expect(new Set(plan.revoke).size).toBe(plan.revoke.length);
  for (const id of plan.revoke) {
    const p = byId.get(id);
    expect(p, `revoked ${id} exists`).toBeDefined();
    expect(p?.endsAt, "history is never revoked").toBeGreaterThan(now);
  }
  for (const p of plan.add) {
    expect(ids.has(p.id), "fresh id").toBe(false);
    if (p.startsAt < now) expect(p.endsAt, "only a cut's used part lies before now").toBe(now);
  }
  const starts = plan.add.map((p) => p.startsAt);
  expect(starts).toEqual([...starts].sort((x, y) => x - y));
  const after = apply(before, plan);
  expectNoOverlap(after);
  for (const p of before) if (p.endsAt <= now) expect(after).toContainEqual(p);
  return after;
}

function runSchedule(ops: readonly Op[]): void {
  const newId = idSource("id");
  let periods: VipPeriod[] = [];
  const orders: string[] = [];
  let now = T0;
  for (const [i, op] of ops.entries()) {
    const expires = levelAt(periods, now).expiresAt;
    now = op.advance === -1 ? (expires ?? now) : now + op.advance;
    const before = periods;
    if (op.kind === "grant") {
      const startsAt = Math.max(now, ...before.map((p) => p.endsAt)) + op.gapDays * DAY_MS;
      const grant: VipPeriod = {
        id: newId(),
        level: op.level,
        startsAt,
        endsAt: startsAt + op.days * DAY_MS,
        valueAmount: 0n,
        valueCurrency: null,
        source: "admin",
        orderId: null,
      };
      periods = [...before, grant];
      continue;
    }
    if (op.kind === "buy") {
      const p = purchase(op.level, op.days, op.value, `o${i}`, op.currency);
      orders.push(p.orderId);
      const levelBefore = levelAt(before, now).level;
      periods = expectValidPlan(before, planPurchase(before, p, now, newId), now);
      expect(futureMs(periods, now) - futureMs(before, now)).toBe(expectedFutureDelta(before, p, now));
      expect(levelAt(periods, now).level).toBe(Math.max(levelBefore, op.level));
    } else {
      const orderId = orders[op.pick % Math.max(1, orders.length)];
      if (orderId === undefined) continue;
      const removed = before.filter((p) => p.orderId === orderId && p.endsAt > now);
      periods = expectValidPlan(before, planRevoke(before, orderId, now, newId), now);
      expect(futureMs(periods, now)).toBe(futureMs(before, now) - futureMs(removed, now));
      expect(periods.some((p) => p.orderId === orderId && p.endsAt > now)).toBe(false);
    }
    // No plan opens a gap; without admin grants the future is one run of touching periods.
    expect(gapMs(periods, now)).toBeLessThanOrEqual(gapMs(before, now));
    for (const t of new Set([now, ...periods.flatMap((p) => [p.startsAt, p.endsAt])])) {
      if (t >= now) expectLevelConsistent(periods, t);
    }
  }
}

describe("schedules under random purchases and refunds", () => {
  it("never overlap or gap, keep history, add exactly the days the rules give and agree with levelAt", () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), runSchedule), { numRuns: 300, seed: 15 });
  });

  it("with admin grants queued after gaps, plans still never overlap and never widen the gaps", () => {
    fc.assert(fc.property(fc.array(fc.oneof(opArb, grantArb), { minLength: 1, maxLength: 25 }), runSchedule), {
      numRuns: 300,
      seed: 16,
    });
  });
});
