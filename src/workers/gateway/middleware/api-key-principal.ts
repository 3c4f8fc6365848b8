import type { TenantDb } from "../../../db/client";
import { findApiKey, keyCreator, touchApiKey } from "../../../db/tenant/api-keys";
import type { ApiKeyRow } from "../../../db/tenant/schema";
import { constantTimeEqual, sha256Hex } from "../../../lib/crypto";
import { AppError } from "../../../lib/errors";
import type { Principal } from "../context";

/** How many keys may stand between a key and the user who answers for it (a key minted by a key …). */
const MAX_KEY_CHAIN = 4;

const revoked = (detail: string) =>
  new AppError("api_key_revoked", detail, { headers: { "www-authenticate": 'Bearer error="invalid_token"' } });

/**
 * The principal of an API key, judged as it stands now (docs/identity.md, "API keys"). A key never
 * acts beyond the user who answers for it: its creator, or for a key minted by a key, the user at
 * the end of that chain. Every request reads that user's status and roles, so
 * - a suspended or deleted creator, or a revoked key in the chain, leaves the key refused (401
 *   `api_key_revoked`);
 * - a permission is held only when the key's scopes, every key's up the chain, and the creator's
 *   roles all grant it (a demoted creator's key loses what the creator lost: 403);
 * - the key's rank is the lowest of its creator's rank now and the ranks stored up the chain.
 */
export async function apiKeyPrincipal(db: TenantDb, token: string): Promise<Extract<Principal, { kind: "api_key" }>> {
  const m = /^ck_([0-9a-z]{26})_([A-Za-z0-9_-]{43})$/.exec(token);
  const row = m ? await findApiKey(db, m[1]!) : undefined;
  if (!m || !row || row.revokedAt !== null || !(await constantTimeEqual(await sha256Hex(m[2]!), row.keyHash))) {
    throw new AppError("invalid_api_key", "The API key is invalid or revoked.");
  }
  const { chain, creatorId } = await keyChain(db, row);
  if (chain.some((k) => k.revokedAt !== null) || (chain.length > 1 && !creatorId)) {
    throw revoked("The API key that created this key has been revoked.");
  }
  const grants = chain.map((k) => JSON.parse(k.permissions) as string[]);
  let rank = Math.min(...chain.map((k) => k.rank));
  const creator = creatorId ? await keyCreator(db, creatorId) : undefined;
  if (!creatorId || !creator || creator.status !== "active") {
    throw revoked("The account that created this API key is suspended or deleted.");
  }
  grants.push(creator.roles.flatMap((r) => JSON.parse(r.permissions) as string[]));
  rank = Math.min(
    rank,
    creator.roles.reduce((max, r) => Math.max(max, r.rank), 0),
  );
  await touchApiKey(db, row);
  return { kind: "api_key", keyId: row.id, creatorId, grants, rank };
}

/**
 * A key and the keys that minted it, nearest first, and the user at the end of that chain
 * (undefined when a key in it is gone or the chain is longer than MAX_KEY_CHAIN).
 */
async function keyChain(db: TenantDb, row: ApiKeyRow): Promise<{ chain: ApiKeyRow[]; creatorId: string | undefined }> {
  const chain = [row];
  for (let link = row; link.createdBy?.startsWith("key:"); ) {
    const parent = chain.length <= MAX_KEY_CHAIN ? await findApiKey(db, link.createdBy.slice(4)) : undefined;
    if (!parent) return { chain, creatorId: undefined };
    chain.push(parent);
    link = parent;
  }
  return { chain, creatorId: chain.at(-1)!.createdBy ?? undefined };
}

/** The user who answers for a key: its creator, or the user at the end of a chain of keys. */
export async function keyOwner(db: TenantDb, row: ApiKeyRow): Promise<string | undefined> {
  return (await keyChain(db, row)).creatorId;
}
