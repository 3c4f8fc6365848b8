import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { doName } from "../../src/durable/names";
import { migrateStorage } from "../../src/durable/storage-migrations";

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
