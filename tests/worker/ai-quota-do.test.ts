import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { QuotaCfg, QuotaOwner } from "../../src/durable/protocol/quota";

/**
 * The quota object alone, with an injected clock: holds that are never settled come back, leases
 * are charged in full and give back late, periods reset at local midnight, and a config change
 * never refills.
 */
const cfg: QuotaCfg = { units: 100, period: "day", timeZone: "UTC" };
// Injected instants lie in the future: the object's alarm (real time) must not expire their holds.
const T0 = Date.UTC(2030, 11, 5, 12, 0, 0);
const FRESH = { bonusPercent: 0, validUntil: Number.MAX_SAFE_INTEGER, packs: 0 };

function object(): { stub: ReturnType<Env["QUOTA"]["get"]>; owner: QuotaOwner } {
  const userId = crypto.randomUUID();
  const tenantId = `t_${crypto.randomUUID()}`;
  return {
    stub: env.QUOTA.get(env.QUOTA.idFromName(`${tenantId}:ai:${userId}`)),
    owner: { tenantId, scope: "user", userId },
  };
}

describe("the AI quota object", () => {
  it("holds what is free, refuses the rest unless partial, and settles the actual", async () => {
    const { stub, owner } = object();
    const base = { owner, cfg, facts: FRESH, feature: "chat", ttlMs: 60_000, now: T0 };
    const a = await stub.reserve({ ...base, id: "a", units: 70, partial: false });
    expect(a).toMatchObject({ kind: "held", held: 70, short: 0, free: 30, reserved: 70 });
    const b = await stub.reserve({ ...base, id: "b", units: 40, partial: false });
    expect(b).toMatchObject({ kind: "held", held: 0, short: 40 });
    const c = await stub.reserve({ ...base, id: "c", units: 40, partial: true });
    expect(c).toMatchObject({ kind: "held", held: 30, short: 10, free: 0 });
    expect(await stub.settle({ id: "a", used: 50, now: T0 + 1 })).toEqual({ charged: 50, returned: 20, unbilled: 0 });
    // More than the hold carried is not charged: it is reported.
    expect(await stub.settle({ id: "c", used: 35, now: T0 + 2 })).toEqual({ charged: 30, returned: 0, unbilled: 5 });
    expect(await stub.settle({ id: "c", used: 1, now: T0 + 3 })).toEqual({ charged: 0, returned: 0, unbilled: 1 });
    expect(await stub.status({ owner, cfg, now: T0 + 4 })).toMatchObject({ used: 80, reserved: 0, free: 20 });
  });

  it("a call that never settles gives its units back when its ttl passes (the alarm, or the next call)", async () => {
    const { stub, owner } = object();
    const now = Date.now();
    await stub.reserve({
      owner,
      cfg,
      facts: FRESH,
      id: "crash",
      units: 60,
      feature: "chat",
      ttlMs: 200,
      partial: false,
      now,
    });
    expect(await stub.status({ owner, cfg, now })).toMatchObject({ reserved: 60, free: 40 });
    await new Promise((r) => setTimeout(r, 400));
    // The alarm returned them: the table is empty before any method looks.
    const holds = await runInDurableObject(
      stub,
      (_o, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM holds").one().n,
    );
    expect(holds).toBe(0);
    expect(await stub.status({ owner, cfg })).toMatchObject({ used: 0, reserved: 0, free: 100 });
    // A settle after the expiry charges nothing (the units went back): it is reported as unbilled.
    expect(await stub.settle({ id: "crash", used: 60 })).toEqual({ charged: 0, returned: 0, unbilled: 60 });
  });

  it("a lease is charged in full if never settled, and a late settle gives back what it did not use", async () => {
    const { stub, owner } = object();
    const l = await stub.lease({ owner, cfg, facts: FRESH, maxUnits: 100, minUnits: 2, ttlMs: 2_000, now: T0 });
    // floor(100 / 16) = 6
    expect(l).toMatchObject({ kind: "lease", units: 6, expiresAt: T0 + 2_000 });
    if (l.kind !== "lease") throw new Error("no lease");
    expect(await stub.status({ owner, cfg, now: T0 + 1_000 })).toMatchObject({ reserved: 6, used: 0 });
    expect(await stub.status({ owner, cfg, now: T0 + 2_000 })).toMatchObject({ reserved: 0, used: 6 });
    expect(await stub.settle({ id: l.id, used: 2, now: T0 + 3_000 })).toEqual({ charged: 2, returned: 4, unbilled: 0 });
    expect(await stub.status({ owner, cfg, now: T0 + 3_001 })).toMatchObject({ used: 2, reserved: 0 });
    // Near exhaustion no lease is carved: every call is exact at the object.
    await stub.reserve({
      owner,
      cfg,
      facts: FRESH,
      id: "big",
      units: 70,
      feature: "chat",
      ttlMs: 60_000,
      partial: false,
      now: T0 + 4_000,
    });
    expect(await stub.lease({ owner, cfg, maxUnits: 100, minUnits: 2, ttlMs: 2_000, now: T0 + 4_001 })).toEqual({
      kind: "none",
      free: 28,
    });
  });

  it("the period resets at local midnight of the tenant's time zone", async () => {
    const { stub, owner } = object();
    const sh: QuotaCfg = { units: 10, period: "day", timeZone: "Asia/Shanghai" };
    const before = Date.UTC(2030, 11, 5, 15, 59, 59, 999);
    await stub.reserve({
      owner,
      cfg: sh,
      facts: FRESH,
      id: "x",
      units: 10,
      feature: "m",
      ttlMs: 1_000,
      partial: false,
      now: before,
    });
    await stub.settle({ id: "x", used: 10, now: before });
    expect(await stub.status({ owner, cfg: sh, now: before })).toMatchObject({
      used: 10,
      free: 0,
      period: { start: Date.UTC(2030, 11, 4, 16), end: Date.UTC(2030, 11, 5, 16) },
    });
    expect(await stub.status({ owner, cfg: sh, now: before + 1 })).toMatchObject({
      used: 0,
      free: 10,
      period: { start: Date.UTC(2030, 11, 5, 16), end: Date.UTC(2030, 11, 6, 16) },
    });
  });

  it("a config change mid-period carries what was used: it never refills", async () => {
    const { stub, owner } = object();
    await stub.reserve({
      owner,
      cfg,
      facts: FRESH,
      id: "x",
      units: 80,
      feature: "m",
      ttlMs: 60_000,
      partial: false,
      now: T0,
    });
    await stub.settle({ id: "x", used: 80, now: T0 });
    const weekly: QuotaCfg = { units: 100, period: "week", timeZone: "UTC" };
    expect(await stub.status({ owner, cfg: weekly, now: T0 + 1 })).toMatchObject({ used: 80, free: 20 });
    const zoned: QuotaCfg = { units: 100, period: "week", timeZone: "Europe/Berlin" };
    expect(await stub.status({ owner, cfg: zoned, now: T0 + 2 })).toMatchObject({ used: 80, free: 20 });
    // A lower limit binds at once.
    expect(await stub.status({ owner, cfg: { ...zoned, units: 50 }, now: T0 + 3 })).toMatchObject({
      used: 80,
      free: 0,
    });
  });

  it("bonus facts expire: a stale object asks for them, and the bonus raises the limit", async () => {
    const { stub, owner } = object();
    expect(await stub.status({ owner, cfg, now: T0 })).toEqual({ kind: "stale" });
    const st = await stub.status({
      owner,
      cfg,
      facts: { bonusPercent: 25, validUntil: T0 + 1_000, packs: 7 },
      now: T0,
    });
    expect(st).toMatchObject({ kind: "status", limit: 125, bonus: 25, packs: 7 });
    expect(await stub.status({ owner, cfg, now: T0 + 1_000 })).toEqual({ kind: "stale" });
    // The pool has no bonus and never asks.
    const pool = env.QUOTA.get(env.QUOTA.idFromName(`${owner.tenantId}:ai-pool`));
    expect(await pool.status({ owner: { tenantId: owner.tenantId, scope: "pool" }, cfg, now: T0 })).toMatchObject({
      kind: "status",
      limit: 100,
    });
  });
});
