import { tenantDb } from "../../db/tenant-db";
import { rolesOfUser } from "../../db/tenant/users";
import type { DeviceInfo, SessionPolicy } from "../../durable/user-hub";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { signToken } from "../../lib/jwt";
import type { ResolvedTenant } from "../context";
import { userHub } from "../authn";
import { audienceOf, issuerOf, tenantKeys } from "../keys";
import { issueDeviceToken } from "./device-trust";

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

/** Signs an access token for a live session, with the user's current role names. */
export async function accessToken(env: Env, tenant: ResolvedTenant, userId: string, sessionId: string): Promise<string> {
  const roles = (await rolesOfUser(tenantDb(tenant.db), userId)).map((r) => r.name);
  const keys = await tenantKeys(env, tenant);
  return signToken(keys.signer, "access", { sub: userId, tid: tenant.id, sid: sessionId, roles }, {
    issuer: issuerOf(tenant),
    audience: audienceOf(tenant),
    ttlSeconds: tenant.config.session.accessTokenTtlSeconds,
  });
}

/** Opens a device session in the user's hub and returns the token pair. */
export async function startSession(
  env: Env,
  tenant: ResolvedTenant,
  userId: string,
  device: DeviceInfo,
  client: { ip: string; userAgent: string },
): Promise<Tokens> {
  const sessionId = newId();
  const res = await userHub(env, tenant.id, userId).createSession({
    tenantId: tenant.id, userId, sessionId, device, ip: client.ip, userAgent: client.userAgent.slice(0, 256),
    policy: sessionPolicy(tenant), now: Date.now(),
  });
  if (!res.ok) {
    if (res.reason === "session_limit") throw new AppError(409, "session_limit", "The session limit is reached; sign out on another device first.");
    throw new AppError(403, "account_inactive", "The account is suspended.");
  }
  const [access, deviceToken] = await Promise.all([accessToken(env, tenant, userId, sessionId), issueDeviceToken(env, tenant, userId)]);
  return { accessToken: access, refreshToken: res.refreshToken, expiresIn: tenant.config.session.accessTokenTtlSeconds, sessionId, deviceToken };
}
