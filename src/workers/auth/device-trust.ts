import { signToken, verifyToken } from "../../lib/jwt";
import type { TenantScope } from "../gateway/context";
import { audienceOf, issuerOf, tenantKeys, verificationKey } from "../tenancy/signing-keys";

/**
 * Device trust for the sign-in throttle (OWASP's "device cookie" pattern): every completed
 * sign-in answers a `deviceToken`, a signed token naming the user. A later sign-in that presents
 * it for the same user is throttled on that token alone, so failures from other addresses (an
 * attacker guessing the password) never lock that device out. It grants nothing else: the
 * password, and MFA when enabled, are still required.
 */
export async function issueDeviceToken(s: TenantScope, userId: string): Promise<string> {
  const { tenant } = s;
  const keys = await tenantKeys(s);
  return signToken(
    keys.signer,
    "device",
    { sub: userId, tid: tenant.id },
    {
      issuer: issuerOf(tenant),
      audience: audienceOf(tenant),
      ttlSeconds: tenant.config.auth.deviceTrustDays * 86_400,
    },
  );
}

/** The user and token id a deviceToken vouches for, or null when it is absent, forged, expired or foreign. */
export async function trustedDevice(
  s: TenantScope,
  token: string | undefined,
): Promise<{ userId: string; id: string } | null> {
  if (!token) return null;
  const { tenant } = s;
  try {
    const claims = await verifyToken(token, "device", (kid) => verificationKey(s, kid), {
      issuer: issuerOf(tenant),
      audience: audienceOf(tenant),
    });
    return claims.tid === tenant.id ? { userId: claims.sub, id: claims.jti } : null;
  } catch {
    // An invalid device token is no reason to refuse a sign-in: it is simply not trusted.
    return null;
  }
}
