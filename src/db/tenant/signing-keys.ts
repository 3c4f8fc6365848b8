import { sealContexts } from "../../lib/seal-contexts";
import { desc, eq, isNull, or, gt } from "drizzle-orm";
import { exportJWK, generateKeyPair } from "jose";
import { sealSecret } from "../../lib/crypto";
import { newId } from "../../lib/ids";
import { ALG } from "../../lib/jwt";
import type { TenantDb } from "../client";
import { signingKeys, type SigningKeyRow } from "./schema";

/**
 * Keys that may still verify tokens: the active one (not retired) and retired ones whose last
 * tokens have not yet expired (`retiredAfter` = now − the longest access-token lifetime).
 */
export async function verifyingKeys(db: TenantDb, retiredAfter: number): Promise<SigningKeyRow[]> {
  return db
    .select()
    .from(signingKeys)
    .where(or(isNull(signingKeys.retiredAt), gt(signingKeys.retiredAt, retiredAfter)))
    .orderBy(desc(signingKeys.createdAt))
    .all();
}

/**
 * Creates a new ES256 key pair and makes it the signing key; the previous active keys are
 * retired in the same batch (they keep verifying until their tokens expire).
 */
export async function rotateSigningKey(
  db: TenantDb,
  sealKey: string,
  tenantId: string,
  now = Date.now(),
): Promise<string> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = newId(now);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
  const privateJwk = await exportJWK(privateKey);
  const sealed = await sealSecret(sealKey, JSON.stringify(privateJwk), sealContexts.signingKey(tenantId, kid));
  await db.batch([
    db.update(signingKeys).set({ retiredAt: now }).where(isNull(signingKeys.retiredAt)),
    db
      .insert(signingKeys)
      .values({ kid, alg: ALG, publicJwk: JSON.stringify(publicJwk), privateJwkSealed: sealed, createdAt: now }),
  ]);
  return kid;
}

export async function signingKeyByKid(db: TenantDb, kid: string): Promise<SigningKeyRow | undefined> {
  return db.select().from(signingKeys).where(eq(signingKeys.kid, kid)).get();
}
