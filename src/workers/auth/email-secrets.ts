import { sealContexts } from "../../lib/seal-contexts";
import type { EmailChallengeRow, EmailPurpose } from "../../db/tenant/schema";
import { hmacHex, openSecret, sealSecret, sha256Hex } from "../../lib/crypto";
import { newId, randomToken } from "../../lib/ids";

/** What an emailed challenge carries: a link token (high entropy) and a 6-digit code, as sent. */
export interface EmailSecret {
  token: string;
  code: string;
}

/** A uniformly random 6-digit code (rejection sampling: no modulo bias). */
export function sixDigits(): string {
  const buf = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buf);
    const v = buf[0]!;
    if (v < 4_294_000_000) return String(v % 1_000_000).padStart(6, "0");
  }
}

/** The stored form of a link token: its SHA-256 (the token has 256 bits, so no key is needed). */
export const tokenHashOf = (token: string) => sha256Hex(`email-token:${token}`);

/** The stored form of a code: keyed and bound to its challenge, so a leaked table does not give it away. */
export const codeHashOf = (env: Env, challengeId: string, code: string) =>
  hmacHex(env.DB_ENCRYPTION_KEY, `email-code:${challengeId}:${code}`);

const sealContext = sealContexts.emailChallenge;

/**
 * A new challenge row with fresh secrets, hashed for lookup and sealed for the (re)send. `code`:
 * whether the challenge also carries a code (links alone for a change of address and its undo).
 */
export async function newChallenge(
  env: Env,
  tenantId: string,
  fields: {
    eventId: string;
    purpose: EmailPurpose;
    userId: string;
    email: string;
    ttlMs: number;
    code: boolean;
    data?: Record<string, unknown>;
  },
  now = Date.now(),
): Promise<EmailChallengeRow> {
  const id = newId(now);
  const secret: EmailSecret = { token: randomToken(32), code: fields.code ? sixDigits() : "" };
  return {
    id,
    eventId: fields.eventId,
    purpose: fields.purpose,
    userId: fields.userId,
    email: fields.email,
    tokenHash: await tokenHashOf(secret.token),
    codeHash: fields.code ? await codeHashOf(env, id, secret.code) : null,
    sealed: await sealSecret(env.DB_ENCRYPTION_KEY, JSON.stringify(secret), sealContext(tenantId, id)),
    data: fields.data ? JSON.stringify(fields.data) : null,
    attempts: 0,
    expiresAt: now + fields.ttlMs,
    usedAt: null,
    sentAt: null,
    createdAt: now,
  };
}

/** The secrets of a stored challenge whose mail has not gone out yet (null once it has). */
export async function openChallenge(env: Env, tenantId: string, row: EmailChallengeRow): Promise<EmailSecret | null> {
  if (!row.sealed) return null;
  return JSON.parse(await openSecret(env.DB_ENCRYPTION_KEY, row.sealed, sealContext(tenantId, row.id))) as EmailSecret;
}
