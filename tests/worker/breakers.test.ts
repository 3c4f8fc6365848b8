import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { platformDb } from "../../src/db/client";
import { findTenantBySlug, updateTenant } from "../../src/db/platform/tenants";
import { breakerFor, CircuitOpenError, guard } from "../../src/lib/breakers";
import { forgetTenant, resolveTenant } from "../../src/workers/tenancy/tenant-cache";
import { as, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("circuit breakers", () => {
  it("open after failures in a row, fail fast, let one probe through after the wait, and close when it succeeds", async () => {
    const b = breakerFor("payments", `test:${crypto.randomUUID()}`, () => true, {
      options: { failures: 3, halfOpenAfterMs: 300 },
    });
    let up = false;
    let calls = 0;
    const dependency = async () => {
      calls++;
      if (!up) throw new Error("down");
      return "answer";
    };
    for (let i = 0; i < 3; i++) await expect(guard(b, dependency)).rejects.toThrow("down");
    expect(b.state).toBe("open");
    // Open: no call reaches the dependency, and the error says when to come back.
    const fast = await guard(b, dependency).catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(CircuitOpenError);
    expect((fast as CircuitOpenError).retryAfterSeconds).toBe(1);
    expect(calls).toBe(3);
    await sleep(350);
    expect(b.state).toBe("halfOpen");
    // A failed probe opens it again; a successful one closes it.
    await expect(guard(b, dependency)).rejects.toThrow("down");
    expect(b.state).toBe("open");
    await sleep(350);
    up = true;
    expect(await guard(b, dependency)).toBe("answer");
    expect(b.state).toBe("closed");
    expect(calls).toBe(5);
  });

  it("calls begun before the breaker closed (stuck in the outage, failing late) do not open it again", async () => {
    const b = breakerFor("payments", `test:${crypto.randomUUID()}`, () => true, {
      options: { failures: 2, halfOpenAfterMs: 200 },
    });
    let up = false;
    const stuck: (() => void)[] = [];
    // Calls that hang until released, then fail (a blackholed connection timing out).
    const hanging = () =>
      guard(b, () => new Promise<never>((_, reject) => stuck.push(() => reject(new Error("timed out")))));
    const late = [hanging(), hanging(), hanging()].map((p) => p.catch((e: unknown) => e));
    for (let i = 0; i < 2; i++) await expect(guard(b, async () => Promise.reject(new Error("down")))).rejects.toThrow();
    expect(b.state).toBe("open");
    await sleep(250);
    up = true;
    expect(await guard(b, async () => (up ? "ok" : Promise.reject(new Error("down"))))).toBe("ok");
    expect(b.state).toBe("closed");
    for (const release of stuck) release();
    for (const e of await Promise.all(late)) expect(String(e)).toContain("timed out"); // the callers still see their error
    expect(b.state).toBe("closed");
    // Fresh failures still count.
    for (let i = 0; i < 2; i++) await expect(guard(b, async () => Promise.reject(new Error("down")))).rejects.toThrow();
    expect(b.state).toBe("open");
  });

  it("calls that fail after a later call succeeded (the outage is over) do not open it", async () => {
    const b = breakerFor("payments", `test:${crypto.randomUUID()}`, () => true, {
      options: { failures: 2, halfOpenAfterMs: 60_000 },
    });
    const stuck: (() => void)[] = [];
    const late = [0, 1, 2].map(() =>
      guard(b, () => new Promise<never>((_, reject) => stuck.push(() => reject(new Error("timed out"))))).catch(
        (e: unknown) => e,
      ),
    );
    await sleep(5);
    expect(await guard(b, async () => "back")).toBe("back"); // began after them, answered
    for (const release of stuck) release();
    for (const e of await Promise.all(late)) expect(String(e)).toContain("timed out");
    expect(b.state).toBe("closed");
    for (let i = 0; i < 2; i++) await expect(guard(b, async () => Promise.reject(new Error("down")))).rejects.toThrow();
    expect(b.state).toBe("open");
  });

  it("waits for its probe from the start of the newest failed call: failures that took long let it probe at once", async () => {
    const b = breakerFor("payments", `test:${crypto.randomUUID()}`, () => true, {
      options: { failures: 2, halfOpenAfterMs: 300 },
    });
    // Two calls that hang 400 ms, then fail (a timeout): the evidence is already older than the wait.
    const slow = () => guard(b, () => sleep(400).then(() => Promise.reject(new Error("timed out"))));
    await Promise.all([slow().catch(() => undefined), slow().catch(() => undefined)]);
    expect(b.state).toBe("halfOpen");
    expect(await guard(b, async () => "back")).toBe("back");
    expect(b.state).toBe("closed");
    // Quick failures: the whole wait.
    for (let i = 0; i < 2; i++) await expect(guard(b, async () => Promise.reject(new Error("down")))).rejects.toThrow();
    expect(b.state).toBe("open");
  });

  it("a tenant whose database is unreachable gets 503s, then fails fast; another tenant keeps being served", async () => {
    const [a, other] = await Promise.all([tenantWithOwner(), tenantWithOwner()]);
    const [ua, ub] = await Promise.all([registerUser(a.tenant.slug), registerUser(other.tenant.slug)]);
    const db = platformDb(env);
    const row = (await findTenantBySlug(db, a.tenant.slug))!;
    // Port 9 (discard) on loopback: nothing listens. A path of its own: a breaker of its own.
    await updateTenant(db, row.id, { dbUrl: `http://127.0.0.1:9/dev/down-${crypto.randomUUID()}/` });
    forgetTenant(a.tenant.slug, row.id);
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await call("/v1/me", as(a.tenant.slug, ua));
      expect(res.status).toBe(503);
      const code = (await res.clone().json<{ code: string }>()).code;
      await expectProblem(res, 503, code === "dependency_unavailable" ? code : "service_unavailable");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      codes.push(code);
      // The other tenant, meanwhile: served as ever.
      expect((await call("/v1/me", as(other.tenant.slug, ub))).status).toBe(200);
    }
    // The first failures reach the database; then the breaker answers at once (a probe a second
    // may reach it again, and fail the same way).
    expect(codes[0]).toBe("service_unavailable");
    expect(codes.filter((c) => c === "dependency_unavailable").length).toBeGreaterThanOrEqual(3);

    const ready = await (await call("/readyz")).json<{ breakers: Record<string, { open: number }> }>();
    expect(ready.breakers.tenant_db?.open).toBeGreaterThanOrEqual(1);

    await updateTenant(db, row.id, { dbUrl: row.dbUrl });
    forgetTenant(a.tenant.slug, row.id);
    expect((await call("/v1/me", as(a.tenant.slug, ua))).status).toBe(200);
  });

  it("while the platform database is unreachable, tenants are resolved from the isolate's cache", async () => {
    const { tenant } = await tenantWithOwner();
    const real = () => platformDb(env);
    const down = () => platformDb({ PLATFORM_DB_URL: `http://127.0.0.1:9/platform-${crypto.randomUUID()}/` });
    const ttl = { ...env, TENANT_CACHE_TTL_MS: "1000" };
    const now = Date.now();
    const known = await resolveTenant(ttl, real, tenant.slug, now);
    expect(known?.id).toBeTruthy();
    // Past the TTL the cache would reload; the platform is down, so the last known config serves.
    const stale = await resolveTenant(ttl, down, tenant.slug, now + 60_000);
    expect(stale?.id).toBe(known?.id);
    // Not beyond ten minutes, and never for a tenant this isolate did not know.
    await expect(resolveTenant(ttl, down, tenant.slug, now + 11 * 60_000)).rejects.toThrow();
    await expect(resolveTenant(ttl, down, `unknown-${crypto.randomUUID().slice(0, 8)}`, now)).rejects.toThrow();
  });
});
