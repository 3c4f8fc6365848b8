import { generate } from "otplib/functional";
import { expect } from "vitest";
import { bearer, login, registerUser } from "./auth-helpers";
import { call, createTenant } from "./helpers";

/** The TOTP code of a secret at a time (RFC 6238 defaults: SHA-1, 6 digits, 30 s). */
export const code = (secret: string, atMs = Date.now()) => generate({ secret, epoch: Math.floor(atMs / 1000) });

/**
 * The code of the step before the current one (so a later sign-in can use the current step).
 * The server accepts one step back: a request that crossed into the next step on its way would
 * be refused, so near a step's end this waits for the next step to begin.
 */
export async function previousStepCode(secret: string): Promise<string> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 3_000) await new Promise((r) => setTimeout(r, left + 50));
  return code(secret, Date.now() - 30_000);
}

/** A user with TOTP enabled in a fresh tenant; returns the secret and recovery codes. */
export async function mfaUser(config: Record<string, unknown> = {}) {
  const t = await createTenant({ config });
  const u = await registerUser(t.slug);
  const setup = await call("/v1/auth/mfa/totp/setup", {
    method: "POST",
    tenant: t.slug,
    headers: bearer(u.tokens.accessToken),
  });
  expect(setup.status).toBe(200);
  const s = await setup.json<{ secret: string; otpauthUri: string; qrSvg: string }>();
  const enable = await call("/v1/auth/mfa/totp/enable", {
    method: "POST",
    tenant: t.slug,
    headers: bearer(u.tokens.accessToken),
    json: { password: u.password, code: await previousStepCode(s.secret) },
  });
  expect(enable.status, await enable.clone().text()).toBe(200);
  const { recoveryCodes } = await enable.json<{ recoveryCodes: string[] }>();
  return { t, u, secret: s.secret, setup: s, recoveryCodes };
}

/** The mfaToken of a password sign-in of an MFA user. */
export async function mfaToken(slug: string, id: string, pw: string): Promise<string> {
  const res = await login(slug, id, pw);
  const body = await res.json<{ mfaRequired?: boolean; mfaToken?: string }>();
  expect(body.mfaRequired).toBe(true);
  return body.mfaToken!;
}
