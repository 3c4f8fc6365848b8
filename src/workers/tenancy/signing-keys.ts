import { sealContexts } from "../../lib/seal-contexts";
import { importJWK, type JWK } from "jose";
import { rotateSigningKey, verifyingKeys } from "../../db/tenant/signing-keys";
import { openSecret } from "../../lib/crypto";
import { ALG, type SigningKey } from "../../lib/jwt";
import { SettledCache } from "../../lib/settled-cache";
import type { ResolvedTenant, TenantScope } from "../gateway/context";

/** A tenant's keys as imported in this isolate. */
export interface TenantKeys {
  signer: SigningKey;
  verifiers: Map<string, CryptoKey>;
  jwks: JWK[];
}

// Keys are imported once per isolate and tenant (imports cost more than verifications) and
// re-read every minute, or at once when a token names a kid we do not know yet (a rotation
// made through another isolate), at most every 5 s so forged kids cannot force reloads.
const TTL_MS = 60_000;
const RELOAD_MIN_MS = 5_000;
const cache = new SettledCache<TenantKeys>();

/** The token issuer and audience of a tenant. */
export const issuerOf = (t: Pick<ResolvedTenant, "id">) => `canopy:tenant:${t.id}`;
export const audienceOf = (t: Pick<ResolvedTenant, "id">) => `canopy:tenant:${t.id}:api`;

async function load({ env, tenant, db }: TenantScope, now: number): Promise<TenantKeys> {
  // A retired key verifies for as long as the longest token it may have signed (+1 min skew).
  const retiredAfter = now - tenant.config.session.accessTokenTtlSeconds * 1000 - 60_000;
  let rows = await verifyingKeys(db, retiredAfter);
  if (!rows.some((r) => r.retiredAt === null)) {
    // First use by a tenant created before it had keys: make one.
    await rotateSigningKey(db, env.DB_ENCRYPTION_KEY, tenant.id, now);
    rows = await verifyingKeys(db, retiredAfter);
  }
  const active = rows.find((r) => r.retiredAt === null)!;
  const verifiers = new Map<string, CryptoKey>();
  const jwks: JWK[] = [];
  for (const r of rows) {
    const jwk = JSON.parse(r.publicJwk) as JWK;
    jwks.push(jwk);
    verifiers.set(r.kid, (await importJWK(jwk, ALG)) as CryptoKey);
  }
  const privateJwk = JSON.parse(
    await openSecret(env.DB_ENCRYPTION_KEY, active.privateJwkSealed, sealContexts.signingKey(tenant.id, active.kid)),
  ) as JWK;
  const privateKey = (await importJWK(privateJwk, ALG)) as CryptoKey;
  return { signer: { kid: active.kid, privateKey }, verifiers, jwks };
}

/** The tenant's keys, cached per isolate (a miss reads them through the request's handle). */
export function tenantKeys(s: TenantScope, now = Date.now(), force = false): Promise<TenantKeys> {
  const fresh = (loadedAt: number) => now - loadedAt < (force ? RELOAD_MIN_MS : TTL_MS);
  return cache.get(s.tenant.id, fresh, () => load(s, now), now);
}

/** The verification key for a kid, reloading once if it is unknown (rotation elsewhere). */
export async function verificationKey(s: TenantScope, kid: string): Promise<CryptoKey | undefined> {
  const keys = await tenantKeys(s);
  return keys.verifiers.get(kid) ?? (await tenantKeys(s, Date.now(), true)).verifiers.get(kid);
}

/** Drops a tenant's keys from this isolate (after a rotation). */
export function forgetKeys(tenantId: string): void {
  cache.delete(tenantId);
}
