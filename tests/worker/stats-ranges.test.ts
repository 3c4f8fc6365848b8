import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FIRST_DAY, LAST_DAY, MAX_PERIODS, periodsOf } from "../../src/workers/statistics/periods";
import { bearer, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

/**
 * Range property tests: every route that takes a day range answers 200 or a 400 problem for any
 * pair of days (extreme years included) and any granularity, and always answers (the probe's
 * `from=9999-12-01&to=9999-12-31` looped until the isolate was killed).
 */

const pad = (n: number, w: number) => String(n).padStart(w, "0");
/** Real calendar days from year 0000 to 9999, weighted towards the ends and the supported edges. */
const day = fc
  .oneof(
    fc.date({ min: new Date("0000-01-01T00:00:00Z"), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true }),
    fc.date({ min: new Date("9999-11-01T00:00:00Z"), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true }),
    fc.date({ min: new Date("0000-01-01T00:00:00Z"), max: new Date("0000-03-01T00:00:00Z"), noInvalidDate: true }),
    fc.date({ min: new Date("1999-12-01T00:00:00Z"), max: new Date("2000-02-01T00:00:00Z"), noInvalidDate: true }),
    fc.date({ min: new Date("2199-12-01T00:00:00Z"), max: new Date("2200-02-01T00:00:00Z"), noInvalidDate: true }),
  )
  .map((d) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`);
const granularity = fc.constantFrom("day", "week", "month");

const OK_OR_RANGE = new Set([200, 400]);

async function expectAnswered(res: Response): Promise<void> {
  const text = await res.text();
  expect(OK_OR_RANGE.has(res.status), `${res.status} ${text}`).toBe(true);
  if (res.status === 400) {
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(["invalid_range", "validation_failed"]).toContain(JSON.parse(text).code);
  }
}

describe("day ranges", () => {
  it("periodsOf ends for any supported range and granularity, within MAX_PERIODS", () => {
    fc.assert(
      fc.property(day, day, granularity, (a, b, g) => {
        const [from, to] = a <= b ? [a, b] : [b, a];
        if (from < FIRST_DAY || to > LAST_DAY) return;
        try {
          const periods = periodsOf(from, to, g);
          expect(periods.length).toBeLessThanOrEqual(MAX_PERIODS);
          expect(periods[0]?.start).toBe(from);
          expect(periods.at(-1)?.end).toBe(to);
        } catch (err) {
          expect((err as { code?: string }).code).toBe("invalid_range");
        }
      }),
      { numRuns: 500, seed: 20261205 },
    );
  });

  it("answers the probe's ranges beyond year 9999 and before year 1 with 400 invalid_range", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const get = (q: string) =>
      call(`/v1/admin/stats?${q}`, { tenant: tenant.slug, headers: bearer(owner.tokens.accessToken) });
    await expectProblem(await get("from=9999-12-01&to=9999-12-31"), 400, "invalid_range");
    await expectProblem(await get("from=0000-01-01&granularity=week"), 400, "invalid_range");
    await expectProblem(await get("from=1999-12-31&to=2000-01-02"), 400, "invalid_range");
    await expectProblem(await get("from=2199-12-30&to=2200-01-01"), 400, "invalid_range");
    await expectProblem(await get("to=2000-01-10"), 400, "invalid_range"); // the default from is 1999-12-12
    expect((await get(`from=${FIRST_DAY}&to=2000-01-31&granularity=week`)).status).toBe(200);
    expect((await get(`from=2199-12-01&to=${LAST_DAY}&granularity=month`)).status).toBe(200);
    const admin = (path: string) => call(path, { admin: true });
    await expectProblem(await admin("/admin/v1/usage?from=9999-12-01&to=9999-12-31"), 400, "invalid_range");
    await expectProblem(
      await admin(`/admin/v1/tenants/${tenant.slug}/usage?from=0000-01-01&granularity=week`),
      400,
      "invalid_range",
    );
  });

  it("every route that takes a range answers any pair of days and granularity with 200 or a 400 problem", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const routes = [
      (q: string) => call(`/v1/admin/stats?${q}`, { tenant: tenant.slug, headers: bearer(owner.tokens.accessToken) }),
      (q: string) => call(`/admin/v1/usage?${q}`, { admin: true }),
      (q: string) => call(`/admin/v1/tenants/${tenant.slug}/usage?${q}`, { admin: true }),
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1, 2), day, day, granularity, async (r, from, to, g) => {
        await expectAnswered(await routes[r]!(`from=${from}&to=${to}&granularity=${g}`));
      }),
      { numRuns: 60, seed: 20261205 },
    );
  });
});
