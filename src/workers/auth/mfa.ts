import type { TenantDb } from "../../db/client";
import { tenantDb } from "../../db/tenant-db";
import { deleteRecoveryCodes, replaceRecoveryCodes } from "../../db/tenant/recovery-codes";
import type { UserRow } from "../../db/tenant/schema";
import { claimTotpStep, findUserById, updateUser } from "../../db/tenant/users";
import { openSecret, sealSecret } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { verifyPassword } from "../../lib/password";
import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, qrSvg, totpUri, verifyTotp } from "../../lib/totp";
import type { ResolvedTenant } from "../context";

const secretContext = (tenant: ResolvedTenant, userId: string) => `${tenant.id}:totp:${userId}`;

export async function openTotpSecret(env: Env, tenant: ResolvedTenant, user: UserRow): Promise<string> {
  if (!user.totpSecretSealed) throw new AppError(409, "mfa_not_set_up", "Set up TOTP first.");
  return openSecret(env.DB_ENCRYPTION_KEY, user.totpSecretSealed, secretContext(tenant, user.id));
}

async function loadUser(tenant: ResolvedTenant, userId: string): Promise<UserRow> {
  const user = await findUserById(tenantDb(tenant.db), userId);
  if (!user || user.status !== "active") throw new AppError(404, "user_not_found", "The account no longer exists.");
  return user;
}

/** Starts TOTP enrolment: a fresh 160-bit secret, pending until a code proves the app has it. */
export async function setupTotp(env: Env, tenant: ResolvedTenant, userId: string) {
  const user = await loadUser(tenant, userId);
  if (user.mfaEnabled) throw new AppError(409, "mfa_already_enabled", "TOTP is already enabled; disable it first to enrol a new device.");
  const secret = newTotpSecret();
  await updateUser(tenantDb(tenant.db), userId, { totpSecretSealed: await sealSecret(env.DB_ENCRYPTION_KEY, secret, secretContext(tenant, userId)) });
  const otpauthUri = totpUri(secret, tenant.name, user.email ?? user.username ?? userId);
  return { secret, otpauthUri, qrSvg: qrSvg(otpauthUri) };
}

async function issueRecoveryCodes(db: TenantDb, userId: string): Promise<string[]> {
  const codes = newRecoveryCodes();
  await replaceRecoveryCodes(db, userId, await Promise.all(codes.map(hashRecoveryCode)));
  return codes;
}

/** Completes enrolment with a valid code; answers the 10 recovery codes (shown once). */
export async function enableTotp(env: Env, tenant: ResolvedTenant, userId: string, code: string): Promise<string[]> {
  const user = await loadUser(tenant, userId);
  if (user.mfaEnabled) throw new AppError(409, "mfa_already_enabled", "TOTP is already enabled.");
  const db = tenantDb(tenant.db);
  const step = await verifyTotp(await openTotpSecret(env, tenant, user), code, user.totpLastStep);
  if (step === null || !(await claimTotpStep(db, userId, step))) throw new AppError(400, "invalid_mfa_code", "The code is wrong or expired.");
  await updateUser(db, userId, { mfaEnabled: true });
  return issueRecoveryCodes(db, userId);
}

/** Password plus a current second factor: what disabling MFA and new recovery codes require. */
async function assertPasswordAndCode(env: Env, tenant: ResolvedTenant, user: UserRow, password: string, code: string, check: (u: UserRow, c: string) => Promise<boolean>) {
  if (!user.mfaEnabled) throw new AppError(409, "mfa_not_enabled", "TOTP is not enabled.");
  if (!(await verifyPassword(password, user.passwordHash)).ok) throw new AppError(401, "invalid_credentials", "The password is wrong.");
  if (!(await check(user, code))) throw new AppError(401, "invalid_mfa_code", "The code is wrong, expired or already used.");
}

export async function disableTotp(env: Env, tenant: ResolvedTenant, userId: string, password: string, code: string, check: (u: UserRow, c: string) => Promise<boolean>): Promise<void> {
  const user = await loadUser(tenant, userId);
  await assertPasswordAndCode(env, tenant, user, password, code, check);
  const db = tenantDb(tenant.db);
  await updateUser(db, userId, { mfaEnabled: false, totpSecretSealed: null });
  await deleteRecoveryCodes(db, userId);
}

export async function regenerateRecoveryCodes(env: Env, tenant: ResolvedTenant, userId: string, password: string, code: string, check: (u: UserRow, c: string) => Promise<boolean>): Promise<string[]> {
  const user = await loadUser(tenant, userId);
  await assertPasswordAndCode(env, tenant, user, password, code, check);
  return issueRecoveryCodes(tenantDb(tenant.db), userId);
}
