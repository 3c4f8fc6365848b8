import { env } from "cloudflare:test";
import { base64url, pick } from "./hostile";
import { isPlatformRoute, needsPermission, opKey, type Operation } from "./openapi";
import type { ActorName } from "./pools";
import type { World } from "./world";

/**
 * Who sends a case: nobody, a forged or foreign credential, a plain member, a registered user
 * holding the seeded `admin` role, the tenant's owner (created with the tenant, holding every
 * permission), an API key the owner created with every permission (`*`) or with `users:read`
 * only, or the platform admin.
 */
export type IdentityName =
  | "anonymous"
  | "forged"
  | "foreign"
  | "member"
  | "admin"
  | "owner"
  | "apiKey"
  | "narrowKey"
  | "platform";

/** Every identity, in a fixed order (weights pick among them). */
export const IDENTITIES: readonly IdentityName[] = [
  "anonymous",
  "forged",
  "foreign",
  "member",
  "admin",
  "owner",
  "apiKey",
  "narrowKey",
  "platform",
];

/** The identities with a live session of the fuzz tenant. */
export const isActor = (i: IdentityName): i is ActorName => i === "owner" || i === "admin" || i === "member";

/** The identities that are API keys of the fuzz tenant. */
export type KeyName = "apiKey" | "narrowKey";
export const isKey = (i: IdentityName): i is KeyName => i === "apiKey" || i === "narrowKey";

/** The scopes each identity key is created with (by the owner, who holds `*`). */
export const KEY_PERMISSIONS: Record<KeyName, string[]> = { apiKey: ["*"], narrowKey: ["users:read"] };

/**
 * The tenant-admin routes the narrow key's `users:read` opens. The document carries no
 * permission per operation, so this is read from the `withPermission(...)` of each /v1/admin/
 * route (src/workers/tenant-admin: the user search and a user's sessions need `users:read`);
 * every other /v1/admin/ route needs a permission the key lacks and must answer 403 `forbidden`.
 */
const NARROW_KEY_ROUTES = new Set(["GET /v1/admin/users", "GET /v1/admin/users/{id}/sessions"]);

/**
 * Signed-in routes outside /v1/admin/ that an API key may call: every other one acts for a user
 * (`requireUser`, 403 `user_required`; checked in src/workers/*: whoami is the one route that
 * answers for either kind of caller).
 */
const KEY_ROUTES = new Set(["GET /v1/auth/whoami"]);

/** How often each identity sends a case, by kind of route: mostly callers who get past auth. */
export function identityWeights(op: Operation): Record<IdentityName, number> {
  if (isPlatformRoute(op))
    return { platform: 8, anonymous: 1, forged: 2, foreign: 0, member: 1, admin: 0, owner: 1, apiKey: 1, narrowKey: 0 };
  if (op.security.length === 0)
    return { anonymous: 4, forged: 1, foreign: 1, member: 2, admin: 0, owner: 2, apiKey: 1, narrowKey: 0, platform: 0 };
  if (needsPermission(op))
    return { owner: 5, admin: 6, apiKey: 4, narrowKey: 2, member: 2, anonymous: 1, forged: 2, foreign: 1, platform: 1 };
  return { member: 8, owner: 5, admin: 3, apiKey: 1, narrowKey: 1, anonymous: 1, forged: 2, foreign: 1, platform: 1 };
}

const text = new TextEncoder();
const b64json = (v: unknown) => base64url(text.encode(JSON.stringify(v)));

function claimsOf(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signature: string;
} {
  const [h = "", p = "", signature = ""] = token.split(".");
  const decode = (part: string): Record<string, unknown> => {
    try {
      return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  return { header: decode(h), payload: decode(p), signature };
}

/**
 * Credentials that must open nothing: random and unsigned JWTs naming the member as an owner,
 * a re-signed payload, a refresh token used as an access token, fake API keys and near-misses of
 * real ones, other schemes, near-misses of the platform token.
 */
function forgeries(world: World): (() => string)[] {
  const member = world.actors.member;
  const real = claimsOf(member.tokens.accessToken);
  const escalated = { ...real.payload, roles: ["owner"], exp: Math.floor(Date.now() / 1000) + 3600 };
  const admin = env.ADMIN_TOKEN;
  const key = world.keys.apiKey.token;
  const [, keyId = "", secret = ""] = /^ck_([^_]+)_(.+)$/.exec(key) ?? [];
  const flip = (s: string) => `${s.slice(0, -1)}${s.endsWith("A") ? "B" : "A"}`;
  return [
    () =>
      `Bearer ${b64json({ alg: "HS256", typ: "JWT" })}.${b64json({ sub: "x" })}.${base64url(crypto.getRandomValues(new Uint8Array(32)))}`,
    () => `Bearer ${b64json({ ...real.header, alg: "none" })}.${b64json(escalated)}.`,
    () => `Bearer ${b64json(real.header)}.${b64json(escalated)}.${real.signature}`,
    () => `Bearer ${member.tokens.refreshToken}`,
    () => `Bearer ck_${"0".repeat(26)}_${"A".repeat(43)}`,
    // The real key's id with another secret, its secret one character off, or cut short.
    () => `Bearer ck_${keyId}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`,
    () => `Bearer ck_${keyId}_${flip(secret)}`,
    () => `Bearer ${key.slice(0, -1)}`,
    () => `Basic ${btoa("admin:admin")}`,
    () => "Bearer",
    () => `Bearer ${member.tokens.accessToken.slice(0, -4)}`,
    () => `Bearer ${member.tokens.accessToken} ${member.tokens.accessToken}`,
    () => `Bearer ${admin}x`,
    () => `Bearer ${admin.slice(0, -1)}`,
    () => admin,
    () => `Bearer ${world.foreignTenant.owner.tokens.refreshToken}`,
  ];
}

/** The Authorization header a case sends, or none. */
export function authorizationFor(
  world: World,
  identity: IdentityName,
  forgery: number,
  op: Operation,
): string | undefined {
  switch (identity) {
    case "anonymous":
      return undefined;
    case "member":
    case "admin":
    case "owner":
      return `Bearer ${world.actors[identity].tokens.accessToken}`;
    case "apiKey":
    case "narrowKey":
      return `Bearer ${world.keys[identity].token}`;
    case "platform":
      return `Bearer ${env.ADMIN_TOKEN}`;
    case "foreign":
      // Another tenant's owner: a genuine token, of the wrong tenant.
      return `Bearer ${world.foreignTenant.owner.tokens.accessToken}`;
    case "forged": {
      const list = forgeries(world);
      // On the platform API, a valid tenant token or API key is as wrong as a forged one.
      if (isPlatformRoute(op))
        list.push(
          () => `Bearer ${world.actors.owner.tokens.accessToken}`,
          () => `Bearer ${world.keys.apiKey.token}`,
        );
      return pick(list, forgery)();
    }
  }
}

/** Why this identity must not get a 2xx from this operation, if it must not. */
export function authReason(identity: IdentityName, op: Operation): string | null {
  if (op.security.length === 0) return null;
  if (isPlatformRoute(op)) return identity === "platform" ? null : `${identity} caller on a platform admin route`;
  if (isActor(identity))
    return identity === "member" && needsPermission(op) ? "a member without permissions on a tenant-admin route" : null;
  if (identity === "narrowKey" && needsPermission(op) && !NARROW_KEY_ROUTES.has(opKey(op))) {
    return `an API key scoped to ${KEY_PERMISSIONS.narrowKey.join(", ")} on a tenant-admin route needing another permission`;
  }
  if (isKey(identity))
    return needsPermission(op) || KEY_ROUTES.has(opKey(op))
      ? null
      : "an API key on a route that acts for a signed-in user";
  return `${identity} caller on a route that needs a signed-in user`;
}

/**
 * A fresh client address per request (172.16.0.0/12, apart from the 10.0.x.1 the auth helpers
 * use), so the auth routes' 30-per-minute limiter per address never turns the run into 429s.
 */
export function addressFor(n: number): string {
  return `172.${16 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`;
}
