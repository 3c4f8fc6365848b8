import type { MiddlewareHandler } from "hono";
import { audited } from "./audit";
import type { TenantDb } from "../../../db/client";
import { rolesOfUser } from "../../../db/tenant/users";
import { AppError } from "../../../lib/errors";
import { verifyToken, type TokenClaims } from "../../../lib/jwt";
import { hasPermission } from "../../../lib/permissions";
import { apiKeyPrincipal } from "./api-key-principal";
import { scopeOf, type AppEnv, type Principal, type TenantScope } from "../context";
import { audienceOf, issuerOf, verificationKey } from "../../tenancy/signing-keys";
import { rateLimit } from "./rate-limit";
import { hubStub } from "../../../durable/protocol/stubs";

/** The user's hub: sessions, sockets, presence. */

// Verified access tokens, per isolate: a client reuses its token for its whole lifetime, so the
// signature is checked once per isolate, not on every request. Revocation is not cached: the
// session check below runs on every request.
const verified = new Map<string, TokenClaims>();
const MAX_VERIFIED = 10_000;

/** Verifies an access token for this tenant (signature, kind, issuer, audience, tenant, expiry). */
export async function verifyAccessToken(s: TenantScope, token: string, now = Date.now()): Promise<TokenClaims> {
  const { tenant } = s;
  const hit = verified.get(token);
  if (hit && hit.exp * 1000 > now && hit.tid === tenant.id) return hit;
  const claims = await verifyToken(token, "access", (kid) => verificationKey(s, kid), {
    issuer: issuerOf(tenant),
    audience: audienceOf(tenant),
    now,
  });
  if (claims.tid !== tenant.id || typeof claims.sid !== "string") {
    throw new AppError("invalid_token", "The token was not issued for this tenant.");
  }
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value!);
  verified.set(token, claims);
  return claims;
}

/**
 * Requires `Authorization: Bearer <access token | API key>`. For users, the token is verified
 * (cached) and the session is checked live in the user's hub, so a revoked session, a suspended
 * user or a password change takes effect on the very next request.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const m = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!m) {
      throw new AppError("unauthenticated", "Sign in: send Authorization: Bearer <access token>.", {
        headers: { "www-authenticate": 'Bearer realm="canopy"' },
      });
    }
    const tenant = c.get("tenant");
    const token = m[1]!;
    if (token.startsWith("ck_")) {
      c.set("principal", await apiKeyPrincipal(c.get("db"), token));
    } else {
      const claims = await verifyAccessToken(scopeOf(c), token);
      // With the default store, the user's API rate limit rides on the same hub call.
      const rate = c.env.UPSTASH_REDIS_REST_URL
        ? undefined
        : { limit: tenant.config.limits.requestsPerMinute, windowSeconds: 60 };
      const check = await hubStub(c.env, tenant.id, claims.sub).check(claims.sid!, Date.now(), rate);
      if (!check.ok) {
        throw new AppError(check.code, check.detail, {
          headers: { "www-authenticate": 'Bearer error="invalid_token"' },
        });
      }
      c.set("principal", { kind: "user", userId: claims.sub, sessionId: claims.sid!, roles: claims.roles ?? [] });
      if (check.value.rate) c.set("userRate", check.value.rate);
      c.set("logFields", { ...c.get("logFields"), user: claims.sub });
    }
    await next();
  };
}

/** The signed-in user (403 for API keys on user-only routes). */
export function requireUser(p: Principal): Extract<Principal, { kind: "user" }> {
  if (p.kind !== "user")
    throw new AppError("user_required", "This route acts for a signed-in user; API keys cannot use it.");
  return p;
}

/**
 * The permission lists that must all grant a permission for this caller: a user's roles, read
 * fresh from the tenant DB so a demotion applies to the next request; for an API key, its scopes
 * and its creator's roles as read when it authenticated (see apiKeyPrincipal).
 */
export async function callerGrants(db: TenantDb, p: Principal): Promise<string[][]> {
  if (p.kind === "api_key") return p.grants;
  return [(await rolesOfUser(db, p.userId)).flatMap((r) => JSON.parse(r.permissions) as string[])];
}

/** True when every list grants the permission. */
export const grantsAll = (grants: string[][], permission: string): boolean =>
  grants.every((g) => hasPermission(g, permission));

/** Requires a `resource:action` permission (see {@link callerGrants}). */
export function requirePermission(permission: string): MiddlewareHandler<AppEnv> {
  return async function requirePermission(c, next) {
    const grants = await callerGrants(c.get("db"), c.get("principal"));
    if (!grantsAll(grants, permission)) throw new AppError("forbidden", `Missing permission ${permission}.`);
    await next();
  };
}

/** The middleware of a route for signed-in callers: authentication, then the API rate limit. */
export function signedIn(): MiddlewareHandler<AppEnv>[] {
  return [authenticate(), rateLimit("api")];
}

/**
 * {@link signedIn} plus a permission check; every action it guards is audited (audit.ts), a
 * refusal for want of the permission too.
 */
export function withPermission(permission: string): MiddlewareHandler<AppEnv>[] {
  return [...signedIn(), audited(permission, (c) => c.get("db")), requirePermission(permission)];
}
