import { type TokenFacts, tokenFactsOf } from "../../db/tenant/users";
import type { DeviceInfo, SessionPolicy } from "../../durable/user-hub";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { signToken } from "../../lib/jwt";
import type { ResolvedTenant, TenantScope } from "../gateway/context";
import { audienceOf, issuerOf, tenantKeys } from "../tenancy/signing-keys";
import { issueDeviceToken } from "./device-trust";
import { hubStub } from "../../durable/protocol/stubs";
import { recordSecurityEvent } from "../gateway/middleware/audit";
import { metrics } from "../../lib/metrics/recorder";
import { valueOf } from "../gateway/results";

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  sessionId: string;
  /** Set on sign-in (not on refresh): the device's proof that it signed in here (device-trust.ts). */
  deviceToken?: string;
}

const DAY = 86_400_000;

export function sessionPolicy(tenant: ResolvedTenant): SessionPolicy {
  const s = tenant.config.session;
  return {
    maxSessions: s.maxSessions,
    perPlatform: s.perPlatform,
    overflow: s.overflow,
    idleMs: s.refreshIdleDays * DAY,
    absoluteMs: s.refreshAbsoluteDays * DAY,
  };
}

/**
 * Everything an access token needs that may fail (the user's role names from the tenant DB, the
 * signing key), read up front; the function it answers only signs. Callers read this before they
 * commit a session or a rotation in the hub, so a database that is down turns into a 503 with
 * nothing spent: the refresh token still works, no session exists that the client never got.
 */
export async function accessTokenSigner(
  s: TenantScope,
  userId: string,
  facts?: TokenFacts,
): Promise<(sessionId: string) => Promise<string>> {
  const { tenant } = s;
  // Roles and the VIP level are hints for clients (show the badge without a request); authorisation
  // reads them anew. `facts`: already read with the user (a password sign-in, findSignInUser).
  const [{ roles, vip }, keys] = await Promise.all([facts ?? tokenFactsOf(s.db, userId, Date.now()), tenantKeys(s)]);
  return (sessionId) =>
    signToken(
      keys.signer,
      "access",
      { sub: userId, tid: tenant.id, sid: sessionId, roles, vip },
      {
        issuer: issuerOf(tenant),
        audience: audienceOf(tenant),
        ttlSeconds: tenant.config.session.accessTokenTtlSeconds,
      },
    );
}

/** How a session is opened: when its first factor was checked (see NewSession), the token facts if already read. */
export interface SessionOptions {
  checkedAt?: number | undefined;
  facts?: TokenFacts | undefined;
}

/** Opens a device session in the user's hub and returns the token pair. */
export async function startSession(
  s: TenantScope,
  userId: string,
  device: DeviceInfo,
  client: { ip: string; userAgent: string },
  opts: SessionOptions = {},
): Promise<Tokens> {
  return (await prepareSession(s, userId, opts))(device, client);
}

/**
 * What opening a session needs that may fail, read first (accessTokenSigner says why); the
 * function it answers opens the session in the hub and signs. A caller that spends something
 * before the session opens (MFA spends a code) prepares before spending.
 */
export async function prepareSession(
  s: TenantScope,
  userId: string,
  opts: SessionOptions = {},
): Promise<(device: DeviceInfo, client: { ip: string; userAgent: string }) => Promise<Tokens>> {
  const [sign, deviceToken] = await Promise.all([
    accessTokenSigner(s, userId, opts.facts),
    issueDeviceToken(s, userId),
  ]);
  return (device, client) => openSession(s, userId, device, client, sign, deviceToken, opts.checkedAt);
}

async function openSession(
  { env, tenant, db }: TenantScope,
  userId: string,
  device: DeviceInfo,
  client: { ip: string; userAgent: string },
  sign: (sessionId: string) => Promise<string>,
  deviceToken: string,
  checkedAt?: number,
): Promise<Tokens> {
  const sessionId = newId();
  const res = await hubStub(env, tenant.id, userId).createSession({
    tenantId: tenant.id,
    userId,
    sessionId,
    device,
    ip: client.ip,
    userAgent: client.userAgent.slice(0, 256),
    policy: sessionPolicy(tenant),
    now: Date.now(),
    checkedAt,
  });
  const { refreshToken, newDevice } = valueOf(res);
  // Every sign-in ends here (password, MFA step, emailed code, a registration's first session).
  metrics.add("canopy_auth_events_total", { kind: "login" }, 1, tenant.id);
  if (newDevice)
    await recordSecurityEvent(db, userId, "signInFromNewDevice", client, {
      deviceId: device.id,
      platform: device.platform,
    });
  return {
    accessToken: await sign(sessionId),
    refreshToken,
    expiresIn: tenant.config.session.accessTokenTtlSeconds,
    sessionId,
    deviceToken,
  };
}

/** Rotates a refresh token and signs a fresh access token. */
export async function refresh(s: TenantScope, refreshToken: string): Promise<Tokens> {
  const { env, tenant } = s;
  const m = /^rt1\.([0-9a-z]{26})\./.exec(refreshToken);
  // What may fail is read before the hub rotates: a 503 then leaves the refresh token unspent.
  const sign = m ? await accessTokenSigner(s, m[1]!) : undefined;
  if (!m) throw new AppError("invalid_refresh_token", "The refresh token is invalid or expired.");
  const answer = await hubStub(env, tenant.id, m[1]!).refresh(refreshToken);
  const kind = answer.ok ? "refresh" : answer.code === "refresh_token_reused" ? "refresh_reuse" : "refresh_failed";
  metrics.add("canopy_auth_events_total", { kind }, 1, tenant.id);
  const res = valueOf(answer);
  return {
    accessToken: await sign!(res.sessionId),
    refreshToken: res.refreshToken,
    expiresIn: tenant.config.session.accessTokenTtlSeconds,
    sessionId: res.sessionId,
  };
}
