import { describe, expect, it, inject } from "vitest";
import { verifyTotp } from "../../src/lib/totp";
import { bearer, login, type Tokens } from "./auth-helpers";
import { code, mfaToken, mfaUser } from "./mfa-helpers";
import { call, expectProblem } from "./helpers";

describe("TOTP MFA", () => {
  it("sets up with a 160-bit secret, an otpauth URI and an SVG QR code; enabling returns 10 recovery codes", async () => {
    const { setup, recoveryCodes } = await mfaUser();
    expect(setup.secret).toMatch(/^[A-Z2-7]{32}$/); // 32 base32 chars = 160 bits
    expect(setup.otpauthUri).toMatch(/^otpauth:\/\/totp\/.+secret=/);
    expect(setup.qrSvg).toContain("<svg");
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
  });

  it("requires the second step; the MFA token grants nothing else", async () => {
    const { t, u, secret } = await mfaUser();
    const token = await mfaToken(t.slug, u.username, u.password);
    await expectProblem(await call("/v1/me", { tenant: t.slug, headers: bearer(token) }), 401, "invalid_token");
    await expectProblem(
      await call("/v1/auth/refresh", { method: "POST", tenant: t.slug, json: { refreshToken: token } }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/auth/refresh", { method: "POST", tenant: t.slug, json: { refreshToken: token.slice(0, 500) } }),
      401,
      "invalid_refresh_token",
    );
    const ok = await call("/v1/auth/mfa/verify", {
      method: "POST",
      tenant: t.slug,
      json: { mfaToken: token, code: await code(secret) },
    });
    expect(ok.status, await ok.clone().text()).toBe(200);
    const tokens = await ok.json<Tokens>();
    expect((await call("/v1/me", { tenant: t.slug, headers: bearer(tokens.accessToken) })).status).toBe(200);
  });

  it("never accepts a time step twice: of ten parallel submissions of a fresh code exactly one succeeds", async () => {
    const { t, u, secret } = await mfaUser({ auth: { maxMfaFailures: 20 } });
    const token = await mfaToken(t.slug, u.username, u.password);
    const fresh = await code(secret);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        call("/v1/auth/mfa/verify", { method: "POST", tenant: t.slug, json: { mfaToken: token, code: fresh } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    // The same code after re-entering the password: still refused (replay).
    const again = await mfaToken(t.slug, u.username, u.password);
    await expectProblem(
      await call("/v1/auth/mfa/verify", { method: "POST", tenant: t.slug, json: { mfaToken: again, code: fresh } }),
      401,
      "invalid_mfa_code",
    );
  });

  it("accepts a recovery code once, and locks out after repeated wrong codes across password re-entry", async () => {
    const { t, u, recoveryCodes } = await mfaUser();
    const verify = async (c: string) =>
      call("/v1/auth/mfa/verify", {
        method: "POST",
        tenant: t.slug,
        json: { mfaToken: await mfaToken(t.slug, u.username, u.password), code: c },
      });
    expect((await verify(recoveryCodes[0]!.toUpperCase())).status).toBe(200);
    await expectProblem(await verify(recoveryCodes[0]!), 401, "invalid_mfa_code");
    for (let i = 0; i < 4; i++) await expectProblem(await verify("000000"), 401, "invalid_mfa_code");
    const locked = await verify(recoveryCodes[1]!);
    await expectProblem(locked, 429, "rate_limited");
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("an mfaToken is single-use: after one success, any other code (recovery or TOTP) is refused", async () => {
    const { t, u, secret, recoveryCodes } = await mfaUser();
    const token = await mfaToken(t.slug, u.username, u.password);
    const verify = (c: string) =>
      call("/v1/auth/mfa/verify", { method: "POST", tenant: t.slug, json: { mfaToken: token, code: c } });
    expect((await verify(recoveryCodes[0]!)).status).toBe(200);
    await expectProblem(await verify(recoveryCodes[1]!), 401, "invalid_token");
    await expectProblem(await verify(await code(secret)), 401, "invalid_token");
    // The refused attempts spent nothing: that recovery code still works with a fresh token.
    const fresh = await mfaToken(t.slug, u.username, u.password);
    expect(
      (
        await call("/v1/auth/mfa/verify", {
          method: "POST",
          tenant: t.slug,
          json: { mfaToken: fresh, code: recoveryCodes[1]! },
        })
      ).status,
    ).toBe(200);
  });

  it("racing redemptions of one mfaToken with different recovery codes: one session, the other codes unspent", async () => {
    const { t, u, recoveryCodes } = await mfaUser({ auth: { maxMfaFailures: 20 } });
    const token = await mfaToken(t.slug, u.username, u.password);
    const racers = recoveryCodes.slice(0, 6);
    const results = await Promise.all(
      racers.map((c) =>
        call("/v1/auth/mfa/verify", { method: "POST", tenant: t.slug, json: { mfaToken: token, code: c } }),
      ),
    );
    const won = results.findIndex((r) => r.status === 200);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) await expectProblem(r, 401, "invalid_token");
    for (const [i, c] of racers.entries()) {
      if (i === won) continue;
      const next = await mfaToken(t.slug, u.username, u.password);
      expect(
        (await call("/v1/auth/mfa/verify", { method: "POST", tenant: t.slug, json: { mfaToken: next, code: c } }))
          .status,
        `code ${i}`,
      ).toBe(200);
    }
  });

  it("disabling and regenerating need the password and a current code", async () => {
    const { t, u, secret, recoveryCodes } = await mfaUser();
    const h = bearer(u.tokens.accessToken);
    await expectProblem(
      await call("/v1/auth/mfa/recovery-codes", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { password: "wrong-password-1", code: recoveryCodes[0] },
      }),
      401,
      "invalid_credentials",
    );
    await expectProblem(
      await call("/v1/auth/mfa/totp/disable", {
        method: "POST",
        tenant: t.slug,
        headers: h,
        json: { password: u.password, code: "123456" },
      }),
      401,
      "invalid_credentials",
    );
    const regen = await call("/v1/auth/mfa/recovery-codes", {
      method: "POST",
      tenant: t.slug,
      headers: h,
      json: { password: u.password, code: recoveryCodes[0] },
    });
    expect(regen.status).toBe(200);
    const fresh = (await regen.json<{ recoveryCodes: string[] }>()).recoveryCodes;
    expect(fresh.some((c) => recoveryCodes.includes(c))).toBe(false);
    const off = await call("/v1/auth/mfa/totp/disable", {
      method: "POST",
      tenant: t.slug,
      headers: h,
      json: { password: u.password, code: await code(secret) },
    });
    expect(off.status).toBe(204);
    expect((await login(t.slug, u.username, u.password)).status).toBe(200);
  });
});

describe("TOTP interoperability", () => {
  it("accepts the codes of an independent generator (Debian's oathtool)", async () => {
    const { secret, codes } = inject("oathtool");
    for (const { epoch, code: c } of codes)
      expect(await verifyTotp(secret, c, 0, epoch * 1000), `t=${epoch}`).toBe(Math.floor(epoch / 30));
  });

  it("matches RFC 6238 Appendix B (SHA-1, last 6 digits) with one past step of tolerance and none ahead", async () => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // base32 of "12345678901234567890"
    const vectors: [number, string][] = [
      [59, "287082"],
      [1111111109, "081804"],
      [1111111111, "050471"],
      [1234567890, "005924"],
      [2000000000, "279037"],
      [20000000000, "353130"],
    ];
    for (const [t, c] of vectors) expect(await verifyTotp(secret, c, 0, t * 1000), `t=${t}`).toBe(Math.floor(t / 30));
    expect(await verifyTotp(secret, "287082", 0, 59_000 + 30_000)).toBe(1); // one step late: accepted
    expect(await verifyTotp(secret, "287082", 0, 59_000 + 60_000)).toBeNull(); // two steps late: refused
    expect(await verifyTotp(secret, "081804", 0, 1111111109_000 - 30_000)).toBeNull(); // from the future: refused
    expect(await verifyTotp(secret, "287082", 1, 59_000)).toBeNull(); // step already used
  });
});
