import { recordSecurityEvent } from "../gateway/middleware/audit";
import { createAccount } from "../../db/tenant/accounts";
import type { TenantDb } from "../../db/client";
import { recoveryCodeClaim } from "../../db/tenant/recovery-codes";
import { redeemOnce } from "../../db/tenant/single-use";
import { canonical, findSignInUser, findUserById, setPassword, totpStepClaim, updateUser } from "../../db/tenant/users";
import type { UserRow } from "../../db/tenant/schema";
import { cancelDeletion, deletionPending } from "../../db/tenant/erasure";
import type { DeviceInfo } from "../../durable/user-hub";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { signToken, verifyToken } from "../../lib/jwt";
import { burnPasswordCheck, hashPassword, verifyPassword } from "../../lib/password";
import { checkPasswordPolicy } from "../../lib/password-policy";
import { hashRecoveryCode, verifyTotp } from "../../lib/totp";
import type { ResolvedTenant, TenantScope } from "../gateway/context";
import { audienceOf, issuerOf, tenantKeys, verificationKey } from "../tenancy/signing-keys";
import { rateLimitStore } from "../gateway/middleware/rate-limit";
import { EMAIL_EVENTS } from "./email-flows";
import { openTotpSecret } from "./mfa";
import { trustedDevice } from "./device-trust";
import { AuthThrottle, mfaSubject, passwordSubject, type Subject } from "./throttle";
import { accessTokenSigner, prepareSession, type SessionOptions, startSession, type Tokens } from "./tokens";
import { hubStub } from "../../durable/protocol/stubs";
import { metrics } from "../../lib/metrics/recorder";

export interface Client {
  ip: string;
  userAgent: string;
  traceparent?: string | undefined;
}

const invalidCredentials = () => new AppError("invalid_credentials", "The identifier or password is wrong.");
const defaultDevice = (d: Partial<DeviceInfo> | undefined): DeviceInfo => ({
  id: d?.id ?? `anon-${newId()}`,
  name: d?.name ?? "",
  platform: d?.platform ?? "web",
});

export interface RegisterInput {
  email?: string | undefined;
  username?: string | undefined;
  phone?: string | undefined;
  password: string;
  device?: Partial<DeviceInfo> | undefined;
}

/** Creates an account (role `member`) and its first session. */
export async function register(
  s: TenantScope,
  input: RegisterInput,
  client: Client,
  roleIds = ["member"],
): Promise<{ userId: string; tokens: Tokens | null }> {
  const { tenant } = s;
  if (tenant.config.signIn.registration !== "open")
    throw new AppError("registration_closed", "This app does not accept new accounts.");
  const required = tenant.config.signIn.emailVerification === "required";
  if (required && !input.email)
    throw new AppError("email_required", "This app requires a verified email address: register with one.");
  checkPasswordPolicy(input.password, [input.email, input.username]);
  const user = await createAccount(s.db, input, roleIds, client.traceparent);
  metrics.add("canopy_auth_events_total", { kind: "register" }, 1, tenant.id);
  // With verification required, the session waits for the address to be proven (a sign-in then).
  if (required) return { userId: user.id, tokens: null };
  return { userId: user.id, tokens: await startSession(s, user.id, defaultDevice(input.device), client) };
}

export type LoginResult = { kind: "tokens"; tokens: Tokens } | { kind: "mfa"; mfaToken: string };

/**
 * The failure buckets a sign-in attempt is counted in (docs/identity.md, "Sign-in throttling"):
 * on a device that signed in to this account before, its deviceToken's own bucket alone; else
 * the (account, address) pair's hard lockout, the address's spraying limit, and the account's
 * global per-minute backoff.
 */
function loginSubjects(tenant: ResolvedTenant, account: string, ip: string, device: { id: string } | null): Subject[] {
  const a = tenant.config.auth;
  if (device) return [["login-device", device.id, a.maxFailures]];
  return [
    ["login-pair", `${ip} ${account}`, a.maxFailures],
    ["login-address", ip, a.maxFailuresPerAddress],
    ["login-account", account, a.accountFailuresPerMinute, 60],
  ];
}

/** Password sign-in, throttled per (account, address), per address, per account and per trusted device. */
export async function login(
  s: TenantScope,
  input: {
    identifier: string;
    password: string;
    device?: Partial<DeviceInfo> | undefined;
    deviceToken?: string | undefined;
    cancelDeletion?: boolean | undefined;
  },
  client: Client,
): Promise<LoginResult> {
  const { env, tenant, db } = s;
  // Before the password hash is read: a reset that lands after this refuses the session (the hub).
  const checkedAt = Date.now();
  const identifier = canonical(input.identifier);
  const [account, known] = await Promise.all([
    findSignInUser(db, identifier, checkedAt),
    trustedDevice(s, input.deviceToken),
  ]);
  // A device token counts only for the account it was issued to.
  const subjects = loginSubjects(
    tenant,
    identifier,
    client.ip,
    known && account && known.userId === account.user.id ? known : null,
  );
  const check = await new AuthThrottle(rateLimitStore(env), tenant).judge(subjects, async (fail) => {
    if (!account || account.user.status === "deleted") {
      await burnPasswordCheck(input.password);
      fail();
      throw invalidCredentials();
    }
    const check = await verifyPassword(input.password, account.user.passwordHash);
    if (!check.ok) {
      fail();
      throw invalidCredentials();
    }
    return { ...check, ...account };
  });
  const user = check.user;
  if (check.needsRehash && user.status === "active")
    await updateUser(db, user.id, { passwordHash: await hashPassword(input.password) });
  return signInUser(s, user, input.device, client, {
    checkedAt,
    cancelsDeletion: input.cancelDeletion === true,
    facts: check.facts,
  });
}

/**
 * What every first factor leads to once it is proven (a password, an emailed code): refused for a
 * suspended account or, when the tenant requires it, an unverified address; an MFA step when TOTP
 * is on; else a session. `checkedAt`: when the first factor was checked (see NewSession);
 * `cancelsDeletion`: the sign-in asked to keep an account scheduled for deletion.
 */
export async function signInUser(
  s: TenantScope,
  user: UserRow,
  requested: Partial<DeviceInfo> | undefined,
  client: Client,
  opts: SessionOptions & { checkedAt: number; cancelsDeletion?: boolean },
): Promise<LoginResult> {
  const cancelsDeletion = opts.cancelsDeletion === true;
  const { tenant } = s;
  if (user.status === "suspended") throw new AppError("account_suspended", "The account is suspended.");
  // A pending deletion is cancelled only by a complete sign-in (after the MFA step, if any).
  if (deletionPending(user) && !cancelsDeletion)
    throw new AppError(
      "deletion_pending",
      'The account is scheduled for deletion; sign in with "cancelDeletion": true to keep it.',
    );
  if (tenant.config.signIn.emailVerification === "required" && user.email && user.emailVerifiedAt === null)
    throw new AppError("email_not_verified", "Verify your email address first: use the link or code we sent.");
  const device = defaultDevice(requested);
  if (user.mfaEnabled) {
    const keys = await tenantKeys(s);
    const mfaToken = await signToken(
      keys.signer,
      "mfa",
      { sub: user.id, tid: tenant.id, device, ...(cancelsDeletion ? { cd: true } : {}) },
      { issuer: issuerOf(tenant), audience: audienceOf(tenant), ttlSeconds: 300 },
    );
    return { kind: "mfa", mfaToken };
  }
  if (deletionPending(user)) await keepAccount(s, user.id, client);
  return { kind: "tokens", tokens: await startSession(s, user.id, device, client, opts) };
}

/** Cancels the pending deletion a sign-in asked to cancel; an erasure that began first wins. */
async function keepAccount({ db }: TenantScope, userId: string, client: Client): Promise<void> {
  if (!(await cancelDeletion(db, userId, Date.now()))) throw invalidCredentials();
  await recordSecurityEvent(db, userId, "deletionCancelled", client);
}

/** Second step of an MFA sign-in: a TOTP code (each time step once) or an unused recovery code. */
export async function verifyMfa(
  s: TenantScope,
  input: { mfaToken: string; code: string },
  client: Client,
): Promise<Tokens> {
  const { env, tenant, db } = s;
  const claims = await verifyToken(input.mfaToken, "mfa", (kid) => verificationKey(s, kid), {
    issuer: issuerOf(tenant),
    audience: audienceOf(tenant),
  });
  const open = await new AuthThrottle(rateLimitStore(env), tenant).judge(
    [mfaSubject(tenant, claims.sub)],
    async (fail) => {
      const user = await findUserById(db, claims.sub);
      if (!user || user.status !== "active" || !user.mfaEnabled)
        throw new AppError("invalid_token", "The MFA token is no longer valid.");
      if (deletionPending(user) && claims.cd !== true)
        throw new AppError("deletion_pending", "The account is scheduled for deletion; sign in again to cancel it.");
      // Read what opening the session needs first, so a database failure spends neither code nor token.
      // The first factor was checked when the mfaToken was issued.
      const open = await prepareSession(s, user.id, { checkedAt: claims.iat * 1000 });
      // The mfaToken is single-use: it is consumed in the same transaction that accepts the code.
      const claim = await secondFactorClaim(env, tenant, user, input.code, db);
      const outcome = claim ? await redeemOnce(db, claim.update, claims.jti, claims.exp * 1000) : "claim_failed";
      if (outcome === "token_used")
        throw new AppError("invalid_token", "The MFA token was already used; sign in again.");
      if (outcome === "claim_failed") {
        fail();
        throw new AppError("invalid_mfa_code", "The code is wrong, expired or already used.");
      }
      if (deletionPending(user)) await keepAccount(s, user.id, client);
      return open;
    },
  );
  return open(defaultDevice(claims.device as Partial<DeviceInfo> | undefined), client);
}

/** A current TOTP code (claimed atomically, so never accepted twice) or a recovery code. */
export async function checkSecondFactor(
  { env, tenant, db }: TenantScope,
  user: UserRow,
  code: string,
): Promise<boolean> {
  const claim = await secondFactorClaim(env, tenant, user, code, db);
  return claim !== null && (await claim.update.run()).rowsAffected === 1;
}

/**
 * The UPDATE that spends a second factor when it is good: the TOTP code's time step (only if
 * newer than every step accepted before), or the recovery code (only if unused). Null when a
 * TOTP code is wrong outright. (Wrapped in an object: a query builder is thenable, and an async
 * function returning one would run it.)
 */
async function secondFactorClaim(
  env: Env,
  tenant: ResolvedTenant,
  user: UserRow,
  code: string,
  db: TenantDb,
): Promise<{ update: ReturnType<typeof totpStepClaim> | ReturnType<typeof recoveryCodeClaim> } | null> {
  if (/^\d{6}$/.test(code)) {
    const step = await verifyTotp(await openTotpSecret(env, tenant, user), code, user.totpLastStep);
    return step === null ? null : { update: totpStepClaim(db, user.id, step) };
  }
  return { update: recoveryCodeClaim(db, user.id, await hashRecoveryCode(code)) };
}

/** Changes the password (current one required) and signs out every other session. */
export async function changePassword(
  { env, tenant, db }: TenantScope,
  userId: string,
  sessionId: string,
  current: string,
  next: string,
): Promise<void> {
  const user = await findUserById(db, userId);
  if (!user) throw new AppError("user_not_found", "The account no longer exists.");
  await new AuthThrottle(rateLimitStore(env), tenant).judge([passwordSubject(tenant, userId)], async (fail) => {
    if (!(await verifyPassword(current, user.passwordHash)).ok) {
      fail();
      throw new AppError("invalid_credentials", "The current password is wrong.");
    }
  });
  checkPasswordPolicy(next, [user.email ?? undefined, user.username ?? undefined]);
  // With its security notice, like a reset (the email consumer mails it).
  await setPassword(db, userId, await hashPassword(next), {
    type: EMAIL_EVENTS.passwordChanged,
    subject: userId,
    data: { userId, reason: "change" },
  });
  await hubStub(env, tenant.id, userId).revokeAll("password_changed", sessionId);
}
