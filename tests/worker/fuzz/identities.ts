import { env } from "cloudflare:test";
import { base64url, pick } from "./hostile";
import { isPlatformRoute, type Operation } from "./openapi";
import type { ActorName } from "./pools";
import type { World } from "./world";

/**
 * Who sends a case: nobody, a forged or foreign credential, a plain member, the tenant's owner
 * (created with the tenant, holding every permission), or the platform admin.
 */
export type IdentityName = "anonymous" | "forged" | "foreign" | "member" | "admin" | "platform";

/** Every identity, in a fixed order (weights pick among them). */
export const IDENTITIES: readonly IdentityName[] = ["anonymous", "forged", "foreign", "member", "admin", "platform"];

/** The identities with a live session of the fuzz tenant. */
export const isActor = (i: IdentityName): i is ActorName => i === "admin" || i === "member";

/** How often each identity sends a case, by kind of route: mostly callers who get past auth. */
export function identityWeights(op: Operation): Record<IdentityName, number> {
  if (isPlatformRoute(op)) return { platform: 8, anonymous: 1, forged: 2, foreign: 0, member: 1, admin: 1 };
  if (op.security.length === 0) return { anonymous: 4, forged: 1, foreign: 1, member: 2, admin: 2, platform: 0 };
  return { admin: 8, member: 8, anonymous: 1, forged: 2, foreign: 1, platform: 1 };
}

const text = new TextEncoder();
const b64json = (v: unknown) => base64url(text.encode(JSON.stringify(v)));

function claimsOf(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
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
 * a re-signed payload, a refresh token used as an access token, fake API keys, other schemes,
 * near-misses of the platform token.
 */
function forgeries(world: World): (() => string)[] {
  const member = world.actors.member;
  const real = claimsOf(member.tokens.accessToken);
  const escalated = { ...real.payload, roles: ["owner"], exp: Math.floor(Date.now() / 1000) + 3600 };
  const admin = env.ADMIN_TOKEN;
  return [
    () => `Bearer ${b64json({ alg: "HS256", typ: "JWT" })}.${b64json({ sub: "x" })}.${base64url(crypto.getRandomValues(new Uint8Array(32)))}`,
    () => `Bearer ${b64json({ ...real.header, alg: "none" })}.${b64json(escalated)}.`,
    () => `Bearer ${b64json(real.header)}.${b64json(escalated)}.${real.signature}`,
    () => `Bearer ${member.tokens.refreshToken}`,
    () => `Bearer ck_${"0".repeat(26)}_${"A".repeat(43)}`,
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
export function authorizationFor(world: World, identity: IdentityName, forgery: number, op: Operation): string | undefined {
  switch (identity) {
    case "anonymous":
      return undefined;
    case "member":
    case "admin":
      return `Bearer ${world.actors[identity].tokens.accessToken}`;
    case "platform":
      return `Bearer ${env.ADMIN_TOKEN}`;
    case "foreign":
      // Another tenant's owner: a genuine token, of the wrong tenant.
      return `Bearer ${world.foreignTenant.owner.tokens.accessToken}`;
    case "forged": {
      const list = forgeries(world);
      // On the platform API, a valid tenant token is as wrong as a forged one.
      if (isPlatformRoute(op)) list.push(() => `Bearer ${world.actors.admin.tokens.accessToken}`);
      return pick(list, forgery)();
    }
  }
}

/** Why this identity must not get a 2xx from this operation, if it must not. */
export function authReason(identity: IdentityName, op: Operation): string | null {
  if (op.security.length > 0) {
    if (isPlatformRoute(op)) {
      if (identity !== "platform") return `${identity} caller on a platform admin route`;
    } else if (!isActor(identity)) {
      return `${identity} caller on a route that needs a signed-in user`;
    }
  }
  return null;
}

/**
 * A fresh client address per request (172.16.0.0/12, apart from the 10.0.x.1 the auth helpers
 * use), so the auth routes' 30-per-minute limiter per address never turns the run into 429s.
 */
export function addressFor(n: number): string {
  return `172.${16 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`;
}
