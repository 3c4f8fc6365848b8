import { describe, expect, it } from "vitest";
import { bearer, login, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";
import { code, mfaToken, mfaUser } from "./mfa-helpers";

/**
 * Burst tests for the counted limits of sign-in, passwords and second factors: N parallel
 * attempts never get more than the limit judged (the attempt is reserved before it is judged),
 * the rest answer 429 with Retry-After, and every route that checks a password or a code of a
 * user shares that user's buckets (docs/identity.md, "Sign-in throttling").
 */

/** Counts answers by status; every 429 must carry Retry-After and be a problem. */
async function tally(responses: Response[]): Promise<Record<number, number>> {
  const counts: Record<number, number> = {};
  for (const res of responses) {
    counts[res.status] = (counts[res.status] ?? 0) + 1;
    if (res.status === 429) {
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      await expectProblem(res, 429, "rate_limited");
    }
  }
  return counts;
}

const burst = (n: number, one: (i: number) => Promise<Response>) =>
  Promise.all(Array.from({ length: n }, (_, i) => one(i)));

describe("counted limits under bursts", () => {
  it("20 parallel wrong TOTP codes on one mfaToken: at most maxMfaFailures (5) are judged", async () => {
    const { t, u } = await mfaUser();
    const token = await mfaToken(t.slug, u.username, u.password);
    const counts = await tally(
      await burst(20, (i) =>
        call("/v1/auth/mfa/verify", {
          method: "POST",
          tenant: t.slug,
          json: { mfaToken: token, code: String(100000 + i) },
        }),
      ),
    );
    expect(counts[401] ?? 0).toBeLessThanOrEqual(5);
    expect((counts[401] ?? 0) + (counts[429] ?? 0)).toBe(20);
    expect(counts[429]).toBeGreaterThanOrEqual(15);
  });

  it("12 parallel wrong passwords for one account from one address: at most maxFailures (5) are judged", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const ip = { "cf-connecting-ip": "203.0.113.9" };
    const counts = await tally(await burst(12, (i) => login(t.slug, u.username, `wrong-password-${i}`, ip)));
    expect(counts[401] ?? 0).toBeLessThanOrEqual(5);
    expect((counts[401] ?? 0) + (counts[429] ?? 0)).toBe(12);
  });

  it("12 parallel wrong current passwords on /v1/auth/password: at most 5 are judged", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const counts = await tally(
      await burst(12, (i) =>
        call("/v1/auth/password", {
          method: "POST",
          tenant: t.slug,
          headers: bearer(u.tokens.accessToken),
          json: { currentPassword: `wrong-password-${i}`, newPassword: `Another-${crypto.randomUUID()}` },
        }),
      ),
    );
    expect(counts[401] ?? 0).toBeLessThanOrEqual(5);
    expect((counts[401] ?? 0) + (counts[429] ?? 0)).toBe(12);
  });

  it("a right attempt is not counted: four failures, a success, then one more failure before the lock", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const ip = { "cf-connecting-ip": "203.0.113.10" };
    for (let i = 0; i < 4; i++)
      await expectProblem(await login(t.slug, u.username, `wrong-${i}-password`, ip), 401, "invalid_credentials");
    expect((await login(t.slug, u.username, u.password, ip)).status).toBe(200);
    await expectProblem(await login(t.slug, u.username, "wrong-5-password", ip), 401, "invalid_credentials");
    await expectProblem(await login(t.slug, u.username, u.password, ip), 429, "rate_limited");
  });
});

describe("routes that check a password or a code share the user's buckets", () => {
  it("MFA disable and new recovery codes: wrong passwords stop at 5, and a right password with a wrong code answers the same", async () => {
    const { t, u } = await mfaUser();
    const h = bearer(u.tokens.accessToken);
    const disable = (password: string, c: string) =>
      call("/v1/auth/mfa/totp/disable", { method: "POST", tenant: t.slug, headers: h, json: { password, code: c } });
    const regen = (password: string, c: string) =>
      call("/v1/auth/mfa/recovery-codes", { method: "POST", tenant: t.slug, headers: h, json: { password, code: c } });
    // No oracle: a wrong password and a right password with a wrong code give one answer.
    const a = await expectProblem(await disable("wrong-password-0", "123456"), 401, "invalid_credentials");
    const b = await expectProblem(await disable(u.password, "123456"), 401, "invalid_credentials");
    expect(a.detail).toBe(b.detail);
    const counts = await tally([
      ...(await burst(4, (i) => disable(`wrong-password-${i + 1}`, "123456"))),
      ...(await burst(4, (i) => regen(`wrong-password-${i + 5}`, "123456"))),
    ]);
    expect(counts[401] ?? 0).toBe(4); // one password failure was spent above: 5 in all
    expect(counts[429]).toBe(4);
  });

  it("wrong codes with the right password stop at maxMfaFailures, shared with sign-in's MFA step", async () => {
    const { t, u, secret } = await mfaUser();
    const h = bearer(u.tokens.accessToken);
    const token = await mfaToken(t.slug, u.username, u.password);
    for (let i = 0; i < 3; i++)
      await expectProblem(
        await call("/v1/auth/mfa/verify", {
          method: "POST",
          tenant: t.slug,
          json: { mfaToken: token, code: String(200000 + i) },
        }),
        401,
        "invalid_mfa_code",
      );
    const counts = await tally(
      await burst(10, (i) =>
        call("/v1/auth/mfa/recovery-codes", {
          method: "POST",
          tenant: t.slug,
          headers: h,
          json: { password: u.password, code: String(300000 + i) },
        }),
      ),
    );
    expect(counts[401] ?? 0).toBeLessThanOrEqual(2);
    expect((counts[401] ?? 0) + (counts[429] ?? 0)).toBe(10);
    // Locked for codes everywhere: even a right code waits.
    await expectProblem(
      await call("/v1/auth/mfa/totp/disable", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { password: u.password, code: await code(secret) },
      }),
      429,
      "rate_limited",
    );
  });

  it("a locked password change locks MFA disable too (one password bucket per user)", async () => {
    const { t, u } = await mfaUser();
    const h = bearer(u.tokens.accessToken);
    for (let i = 0; i < 5; i++) {
      const res = await call("/v1/auth/password", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { currentPassword: `wrong-password-${i}`, newPassword: `Another-${crypto.randomUUID()}` },
      });
      await expectProblem(res, 401, "invalid_credentials");
    }
    await expectProblem(
      await call("/v1/auth/mfa/totp/disable", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { password: "wrong-password-9", code: "123456" },
      }),
      429,
      "rate_limited",
    );
    await expectProblem(
      await call("/v1/auth/mfa/recovery-codes", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { password: "wrong-password-9", code: "123456" },
      }),
      429,
      "rate_limited",
    );
  });

  it("enabling MFA needs the password: a bearer token alone cannot turn it on", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const h = bearer(u.tokens.accessToken);
    const setup = await (await call("/v1/auth/mfa/totp/setup", { method: "POST", tenant: t.slug, headers: h })).json<{
      secret: string;
    }>();
    await expectProblem(
      await call("/v1/auth/mfa/totp/enable", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { code: await code(setup.secret) },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/auth/mfa/totp/enable", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { password: "wrong-password-1", code: await code(setup.secret) },
      }),
      401,
      "invalid_credentials",
    );
    expect((await login(t.slug, u.username, u.password)).status).toBe(200); // still no MFA
    const ok = await call("/v1/auth/mfa/totp/enable", {
      method: "POST",
      tenant: t.slug,
      headers: h,
      json: { password: u.password, code: await code(setup.secret) },
    });
    expect(ok.status, await ok.clone().text()).toBe(200);
  });
});
