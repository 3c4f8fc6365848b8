import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { doName } from "../../src/durable/names";
import { RateLimiter, WRITE_BEHIND_MS } from "../../src/durable/rate-limiter";
import { migrateStorage } from "../../src/durable/storage-migrations";
import {
  DurableObjectRateLimitStore,
  RATE_LIMIT_SHARDS,
  shardOf,
} from "../../src/workers/gateway/middleware/rate-limit";

const stub = <T extends Rpc.DurableObjectBranded>(ns: DurableObjectNamespace<T>, tenantId: string, ...name: string[]) =>
  ns.get(ns.idFromName(doName(tenantId, ...name)));

describe("RateLimiter (sliding window)", () => {
  it("admits up to the limit, then refuses with a retry-after, and recovers in the next windows", async () => {
    const rl = stub(env.RATE_LIMITER, crypto.randomUUID(), "ip", "login");
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000); // a window boundary
    for (let i = 0; i < 5; i++) expect((await rl.check("k", 5, 60, 1, t0 + i)).allowed).toBe(true);
    const denied = await rl.check("k", 5, 60, 1, t0 + 10);
    expect(denied).toMatchObject({ allowed: false, remaining: 0 });
    expect(denied.retryAfter).toBeGreaterThan(0);
    // Half-way into the next window half of the previous window still counts: 2 of 5 are free.
    const mid = t0 + 90_000;
    expect((await rl.check("k", 5, 60, 1, mid)).allowed).toBe(true);
    expect((await rl.check("k", 5, 60, 1, mid)).allowed).toBe(true);
    expect((await rl.check("k", 5, 60, 1, mid)).allowed).toBe(false);
    expect((await rl.check("k", 5, 60, 1, t0 + 240_000)).allowed).toBe(true);
  });

  it("never admits more than the limit under concurrent checks", async () => {
    const rl = stub(env.RATE_LIMITER, crypto.randomUUID(), "user", "api");
    const results = await Promise.all(Array.from({ length: 30 }, () => rl.check("k", 10, 60)));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
  });
});

describe("RateLimiter's rows in memory", () => {
  it("counts the same from memory as from storage: a fresh instance sees what the last one counted", async () => {
    const rl = stub(env.RATE_LIMITER, crypto.randomUUID(), "rl", "1");
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
    expect((await rl.check("a", 2, 60, 1, t0)).allowed).toBe(true);
    await runInDurableObject(rl, (_obj, state) => {
      // Another instance on the same storage (as after an eviction): every row fits in memory.
      const fresh = new RateLimiter(state, env);
      expect(fresh.check("a", 2, 60, 1, t0).allowed).toBe(true);
      expect(fresh.check("a", 2, 60, 1, t0).allowed).toBe(false);
      // More rows than it keeps in memory: a key it lacks is read from storage.
      state.storage.sql.exec(
        `INSERT INTO windows (key, start, prev, curr, expires_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4200)
         SELECT 'k' || i, ?, 0, 1, ? FROM n`,
        t0,
        t0 + 120_000,
      );
      const big = new RateLimiter(state, env);
      expect(big.check("k4100", 1, 60, 1, t0).allowed).toBe(false);
      expect(big.check("a", 2, 60, 1, t0).allowed).toBe(false);
      expect(big.check("new", 1, 60, 1, t0).allowed).toBe(true);
      expect(big.check("new", 1, 60, 1, t0).allowed).toBe(false);
      for (let i = 0; i < 4200; i++) big.check(`fill${i}`, 1, 60, 1, t0);
      // Dropped from memory long ago, still counted from storage.
      expect(big.check("new", 1, 60, 1, t0).allowed).toBe(false);
      expect(big.check("k1", 1, 60, 1, t0).allowed).toBe(false);
    });
  });
});

describe("RateLimiter's route counts (written behind)", () => {
  const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
  type Row = { key: string; curr: number };
  const rows = (rl: DurableObjectStub<RateLimiter>) =>
    runInDurableObject(rl, (_obj, state) =>
      state.storage.sql.exec<Row>("SELECT key, curr FROM windows ORDER BY key").toArray(),
    );

  it("limit like checks, answer before their write, and are written together within WRITE_BEHIND_MS", async () => {
    const rl = stub(env.RATE_LIMITER, crypto.randomUUID(), "rl", "3");
    const counted = await Promise.all(Array.from({ length: 5 }, () => rl.count("r", 3, 60, t0)));
    expect(counted.filter((r) => r.allowed)).toHaveLength(3);
    expect((await rl.check("r", 3, 60, 1, t0)).allowed).toBe(false); // a check sees the counts
    await rl.count("s", 3, 60, t0);
    expect(await rows(rl)).toEqual([]);
    await new Promise((r) => setTimeout(r, WRITE_BEHIND_MS + 500));
    expect(await rows(rl)).toEqual([
      { key: "r", curr: 3 },
      { key: "s", curr: 1 },
    ]);
  });

  it("are written with the next check or settled hold, and before they leave memory", async () => {
    const rl = stub(env.RATE_LIMITER, crypto.randomUUID(), "rl", "4");
    await rl.count("r", 3, 60, t0);
    await rl.check("c", 3, 60, 1, t0);
    expect(await rows(rl)).toEqual([
      { key: "c", curr: 1 },
      { key: "r", curr: 1 },
    ]);
    await runInDurableObject(rl, (_obj, state) => {
      const fresh = new RateLimiter(state, env);
      fresh.count("w", 5, 60, t0);
      // More keys than it keeps in memory: "w", the oldest, is written before it is dropped.
      for (let i = 0; i < 4200; i++) fresh.count(`fill${i}`, 5, 60, t0);
      const w = state.storage.sql.exec<Row>("SELECT key, curr FROM windows WHERE key = 'w'").toArray();
      expect(w).toEqual([{ key: "w", curr: 1 }]);
      expect(fresh.count("w", 1, 60, t0).allowed).toBe(false); // read back from storage
    });
  });
});

describe("DurableObjectRateLimitStore (a tenant's keys over a fixed set of shards)", () => {
  it("spreads keys over the shards, each key on one, and keeps keys sharing a shard apart", async () => {
    const tenantId = crypto.randomUUID();
    const keys = Array.from({ length: 400 }, (_, i) => `${tenantId}:ip:10.0.${i >> 8}.${i & 255}:auth`);
    // A fixed set of keys (the hash is deterministic): every shard gets some.
    const fixed = keys.map((k) => k.replace(tenantId, "tenant-1"));
    expect(new Set(fixed.map(shardOf)).size).toBe(RATE_LIMIT_SHARDS);
    expect(keys.map(shardOf)).toEqual(keys.map(shardOf));
    const [a, b] = keys.filter((k) => shardOf(k) === shardOf(keys[0]!));
    const store = new DurableObjectRateLimitStore(env.RATE_LIMITER);
    for (let i = 0; i < 3; i++) expect((await store.check(a!, 3, 60)).allowed).toBe(true);
    expect((await store.check(a!, 3, 60)).allowed).toBe(false);
    expect((await store.check(b!, 3, 60)).allowed).toBe(true);
    // Another tenant's identical subject is another object, with its own count.
    const other = crypto.randomUUID();
    expect((await store.check(a!.replace(tenantId, other), 3, 60)).allowed).toBe(true);
  });

  it("never admits more than the limit under concurrent checks of one key, and refunds", async () => {
    const store = new DurableObjectRateLimitStore(env.RATE_LIMITER);
    const key = `${crypto.randomUUID()}:auth:login-pair:10.1.1.1 ann`;
    const results = await Promise.all(Array.from({ length: 30 }, () => store.check(key, 10, 900)));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect((await store.check(key, 10, 900, -1)).allowed).toBe(true);
    expect((await store.check(key, 10, 900)).allowed).toBe(true);
    expect((await store.check(key, 10, 900)).allowed).toBe(false);
  });

  it("prunes rows once both of their windows have passed, and only those", async () => {
    const rl = stub(env.RATE_LIMITER, crypto.randomUUID(), "rl", "0");
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
    await rl.check("old", 5, 60, 1, t0);
    await rl.check("long", 5, 3600, 1, t0);
    await rl.check("fresh", 5, 60, 1, t0 + 100_000);
    await runInDurableObject(rl, (obj: { prune(now: number): number }, state) => {
      // "old" counted in the window starting at t0; by t0 + 120 s neither of its windows is current.
      expect(obj.prune(t0 + 119_999)).toBe(0);
      expect(obj.prune(t0 + 120_000)).toBe(1);
      const left = state.storage.sql.exec<{ key: string }>("SELECT key FROM windows ORDER BY key").toArray();
      expect(left.map((r) => r.key)).toEqual(["fresh", "long"]);
    });
    // A pruned key starts afresh, as it would have anyway.
    expect((await rl.check("old", 1, 60, 1, t0 + 120_000)).allowed).toBe(true);
  });
});

describe("Rate-limit reservations (all or nothing, settled later)", () => {
  const check = (key: string, limit: number, cost = 1) => ({ key, limit, windowSeconds: 900, cost });
  const left = async (store: DurableObjectRateLimitStore, key: string, limit: number) =>
    (await store.check(key, limit, 900, 0)).remaining;

  it("keeps a hash tag's keys on one shard; without a tag (or with an empty one) the whole key counts", () => {
    const keys = Array.from({ length: 64 }, (_, i) => `t:{auth}:login-pair:10.0.0.${i} user${i}`);
    expect(new Set(keys.map(shardOf)).size).toBe(1);
    expect(shardOf("t:{auth}:x")).toBe(shardOf("other:{auth}:y"));
    const untagged = Array.from({ length: 64 }, (_, i) => `t:{}:login-pair:10.0.0.${i}`);
    expect(new Set(untagged.map(shardOf)).size).toBeGreaterThan(1);
    expect(new Set(keys.map((k) => shardOf(k.replace("{auth}", "auth")))).size).toBeGreaterThan(1);
    // A subject is client input: a tag of its own, after the throttle's, moves nothing.
    const hostile = Array.from({ length: 32 }, (_, i) => `t:{auth}:login-account:{evil${i}}`);
    expect(new Set(hostile.map(shardOf))).toEqual(new Set([shardOf("t:{auth}:x")]));
  });

  it("keeps another tenant's identical buckets apart: its reservations neither see nor settle these", async () => {
    const store = new DurableObjectRateLimitStore(env.RATE_LIMITER);
    const [t1, t2] = [crypto.randomUUID(), crypto.randomUUID()];
    const mine = await store.reserve([check(`${t1}:{auth}:pair:10.0.0.1 ann`, 1)]);
    expect(mine.results[0]!.allowed).toBe(true);
    const theirs = await store.reserve([check(`${t2}:{auth}:pair:10.0.0.1 ann`, 1)]);
    expect(theirs.results[0]!.allowed).toBe(true);
    await theirs.settle([`${t2}:{auth}:pair:10.0.0.1 ann`]);
    // t1's unit is still held (not settled, not spent by t2's settlement).
    expect((await store.reserve([check(`${t1}:{auth}:pair:10.0.0.1 ann`, 1)])).results[0]!.allowed).toBe(false);
    await mine.settle([]);
    expect(await left(store, `${t1}:{auth}:pair:10.0.0.1 ann`, 1)).toBe(1);
    expect(await left(store, `${t2}:{auth}:pair:10.0.0.1 ann`, 1)).toBe(0);
  });

  it("holds a unit of every key or of none; settling keeps the spent ones and hands back the rest", async () => {
    const tenant = crypto.randomUUID();
    const store = new DurableObjectRateLimitStore(env.RATE_LIMITER);
    const [a, b] = [`${tenant}:{auth}:a`, `${tenant}:{auth}:b`];
    const first = await store.reserve([check(a, 3), check(b, 1)]);
    expect(first.results.map((r) => r.allowed)).toEqual([true, true]);
    // Held units count: b is spent while the first attempt is judged, so the second takes nothing.
    const second = await store.reserve([check(a, 3), check(b, 1)]);
    expect(second.results.map((r) => r.allowed)).toEqual([true, false]);
    await second.settle([a, b]); // a refused reservation holds nothing to settle
    expect(await left(store, a, 3)).toBe(2); // the first attempt's unit, held
    // The first attempt failed in a only: a's unit is written, b's handed back.
    await first.settle([a]);
    await first.settle([a]); // settling twice changes nothing
    expect([await left(store, a, 3), await left(store, b, 1)]).toEqual([2, 1]);
    // One key twice in a reservation: the second check sees the first's unit.
    const c = `${tenant}:{auth}:c`;
    expect((await store.reserve([check(c, 1), check(c, 1)])).results.map((r) => r.allowed)).toEqual([true, false]);
    expect((await store.check(c, 1, 900)).allowed).toBe(true);
  });

  it("never judges more attempts than the tightest key allows under concurrency", async () => {
    const tenant = crypto.randomUUID();
    const store = new DurableObjectRateLimitStore(env.RATE_LIMITER);
    const [pair, addr] = [`${tenant}:{auth}:pair`, `${tenant}:{auth}:addr`];
    const batch = [check(pair, 10), check(addr, 7)];
    const all = await Promise.all(Array.from({ length: 30 }, () => store.reserve(batch)));
    const judged = all.filter((r) => r.results.every((x) => x.allowed));
    expect(judged).toHaveLength(7);
    // The refused ones took nothing; the judged ones fail in pair only.
    await Promise.all(judged.map((r) => r.settle([pair])));
    expect([await left(store, pair, 10), await left(store, addr, 7)]).toEqual([3, 7]);
  });

  it("counts a hold never settled as spent once it expires, and ignores a ticket it does not know", async () => {
    const rl = stub(env.RATE_LIMITER, crypto.randomUUID(), "rl", "2");
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 900_000);
    const { ticket } = await rl.hold([check("k", 2)], t0);
    expect(ticket).toBeTruthy();
    await rl.settle("no-such-ticket", [], t0 + 1);
    expect((await rl.check("k", 2, 900, 0, t0 + 1)).remaining).toBe(1);
    // A minute later the attempt is taken for crashed: its unit is written, and settling is too late.
    await rl.settle(ticket!, [], t0 + 61_000);
    expect((await rl.check("k", 2, 900, 0, t0 + 61_000)).remaining).toBe(1);
  });

  it("spans shards with single checks, handing back what it took when one is refused or when settled", async () => {
    const tenant = crypto.randomUUID();
    const store = new DurableObjectRateLimitStore(env.RATE_LIMITER);
    const keys = Array.from({ length: 40 }, (_, i) => `${tenant}:ip:10.9.0.${i}:auth`);
    const [a, b] = [keys[0]!, keys.find((k) => shardOf(k) !== shardOf(keys[0]!))!];
    expect((await store.check(b, 1, 900)).allowed).toBe(true);
    expect((await store.reserve([check(a, 2), check(b, 1)])).results.map((r) => r.allowed)).toEqual([true, false]);
    expect(await left(store, a, 2)).toBe(2);
    const r = await store.reserve([check(a, 2), check(b, 2)]);
    expect(r.results.every((x) => x.allowed)).toBe(true);
    expect(await left(store, a, 2)).toBe(1);
    await r.settle([b]);
    expect([await left(store, a, 2), await left(store, b, 2)]).toEqual([2, 0]);
  });
});

describe("Quota", () => {
  it("spends all-or-nothing and never overspends under races", async () => {
    const q = stub(env.QUOTA, crypto.randomUUID(), "ai");
    const day = 86_400_000;
    const results = await Promise.all(Array.from({ length: 25 }, () => q.consume("chat", 1, 10, day)));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(await q.peek("chat", day)).toBe(10);
    expect((await q.consume("chat", -5, 10, day)).allowed).toBe(false);
  });
});

describe("Durable Object storage migrations", () => {
  // Run against a real object's storage with a ledger table of the test's own, so the object's
  // own schema (whatever version it is at) is not involved.
  it("run once, survive re-runs and refuse a schema newer than the code", async () => {
    const q = stub(env.QUOTA, crypto.randomUUID(), "m-1");
    await runInDurableObject(q, (_obj, state) => {
      const steps = [
        (sql: SqlStorage) => sql.exec("CREATE TABLE t (x)"),
        (sql: SqlStorage) => sql.exec("INSERT INTO t VALUES (1)"),
      ];
      expect(migrateStorage(state.storage, steps, "_test_schema")).toBe(2);
      expect(migrateStorage(state.storage, steps, "_test_schema")).toBe(2);
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM t").one().n).toBe(1);
      expect(() => migrateStorage(state.storage, steps.slice(0, 1), "_test_schema")).toThrow(/newer than this code/);
    });
  });

  it("roll back a failing step with its version bump", async () => {
    const q = stub(env.QUOTA, crypto.randomUUID(), "m-2");
    await runInDurableObject(q, (_obj, state) => {
      const steps = [
        (sql: SqlStorage) => sql.exec("CREATE TABLE ok (x)"),
        (sql: SqlStorage) => sql.exec("CREATE TABLE broken ("),
      ];
      expect(() => migrateStorage(state.storage, steps, "_test_schema")).toThrow(/incomplete input/);
      const v = state.storage.sql.exec<{ version: number }>("SELECT version FROM _test_schema").toArray()[0]?.version;
      expect(v).toBe(1);
    });
  });
});
