import { sealContexts } from "../../lib/seal-contexts";
import type { TenantDb } from "../../db/client";
import { deleteRecoveryCodes, replaceRecoveryCodes } from "../../db/tenant/recovery-codes";
import type { UserRow } from "../../db/tenant/schema";
import { claimTotpStep, findUserById, updateUser } from "../../db/tenant/users";
import { openSecret, sealSecret } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { verifyPassword } from "../../lib/password";
import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, qrSvg, totpUri, verifyTotp } from "../../lib/totp";
import type { ResolvedTenant, TenantScope } from "../gateway/context";
import { rateLimitStore } from "../gateway/middleware/rate-limit";
import { AuthThrottle, mfaSubject, passwordSubject } from "./throttle";

const secretContext = (tenant: ResolvedTenant, userId: string) => sealContexts.totp(tenant.id, userId);

export async function openTotpSecret(env: Env, tenant: ResolvedTenant, user: UserRow): Promise<string> {
  if (!user.totpSecretSealed) throw new AppError("mfa_not_set_up", "Set up TOTP first.");
  return openSecret(env.DB_ENCRYPTION_KEY, user.totpSecretSealed, secretContext(tenant, user.id));
}

async function loadUser(db: TenantDb, userId: string): Promise<UserRow> {
  const user = await findUserById(db, userId);
  if (!user || user.status !== "active") throw new AppError("user_not_found", "The account no longer exists.");
  return user;
}

/** Starts TOTP enrolment: a fresh 160-bit secret, pending until a code proves the app has it. */
export async function setupTotp({ env, tenant, db }: TenantScope, userId: string) {
  const user = await loadUser(db, userId);
  if (user.mfaEnabled)
    throw new AppError("mfa_already_enabled", "TOTP is already enabled; disable it first to enrol a new device.");
  const secret = newTotpSecret();
  await updateUser(db, userId, {
    totpSecretSealed: await sealSecret(env.DB_ENCRYPTION_KEY, secret, secretContext(tenant, userId)),
  });
  const otpauthUri = totpUri(secret, tenant.name, user.email ?? user.username ?? userId);
  return { secret, otpauthUri, qrSvg: qrSvg(otpauthUri) };
}

async function issueRecoveryCodes(db: TenantDb, userId: string): Promise<string[]> {
  const codes = newRecoveryCodes();
  await replaceRecoveryCodes(db, userId, await Promise.all(codes.map(hashRecoveryCode)));
  return codes;
}

/**
 * The password and a code, judged together under the user's password and MFA buckets (shared
 * with sign-in's MFA step and the password change; docs/identity.md, "Sign-in throttling"). The
 * code is only checked (and spent) when the password is right. Either wrong answers the same
 * 401 `invalid_credentials`, so a stolen access token cannot tell a right password from a wrong
 * one by the answer; the failure counts in the bucket of what was wrong.
 */
export async function assertPasswordAndCode(
  env: Env,
  tenant: ResolvedTenant,
  user: UserRow,
  password: string,
  code: string,
  check: (u: UserRow, c: string) => Promise<boolean>,
): Promise<void> {
  const throttle = new AuthThrottle(rateLimitStore(env), tenant);
  const subjects = [passwordSubject(tenant, user.id), mfaSubject(tenant, user.id)];
  await throttle.judge(subjects, async (fail) => {
    const wrong = () => new AppError("invalid_credentials", "The password or the code is wrong.");
    if (!(await verifyPassword(password, user.passwordHash)).ok) {
      fail("password");
      throw wrong();
    }
    if (!(await check(user, code))) {
      fail("mfa");
      throw wrong();
    }
  });
}

/** Completes enrolment with the password and a valid code; answers the 10 recovery codes (shown once). */
export async function enableTotp(
  { env, tenant, db }: TenantScope,
  userId: string,
  password: string,
  code: string,
): Promise<string[]> {
  const user = await loadUser(db, userId);
  if (user.mfaEnabled) throw new AppError("mfa_already_enabled", "TOTP is already enabled.");
  const secret = await openTotpSecret(env, tenant, user);
  await assertPasswordAndCode(env, tenant, user, password, code, async (u, c) => {
    const step = await verifyTotp(secret, c, u.totpLastStep);
    return step !== null && (await claimTotpStep(db, userId, step));
  });
  await updateUser(db, userId, { mfaEnabled: true });
  return issueRecoveryCodes(db, userId);
}

export async function disableTotp(
  { env, tenant, db }: TenantScope,
  userId: string,
  password: string,
  code: string,
  check: (u: UserRow, c: string) => Promise<boolean>,
): Promise<void> {
  const user = await loadUser(db, userId);
  if (!user.mfaEnabled) throw new AppError("mfa_not_enabled", "TOTP is not enabled.");
  await assertPasswordAndCode(env, tenant, user, password, code, check);
  await updateUser(db, userId, { mfaEnabled: false, totpSecretSealed: null });
  await deleteRecoveryCodes(db, userId);
}

export async function regenerateRecoveryCodes(
  { env, tenant, db }: TenantScope,
  userId: string,
  password: string,
  code: string,
  check: (u: UserRow, c: string) => Promise<boolean>,
): Promise<string[]> {
  const user = await loadUser(db, userId);
  if (!user.mfaEnabled) throw new AppError("mfa_not_enabled", "TOTP is not enabled.");
  await assertPasswordAndCode(env, tenant, user, password, code, check);
  return issueRecoveryCodes(db, userId);
}
