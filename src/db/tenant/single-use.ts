import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";
import { isConstraintViolation } from "../constraint";

/** What redeeming a single-use token together with a claim came to. */
export type Redemption = "redeemed" | "claim_failed" | "token_used";

/**
 * Spends a claim (an UPDATE that changes one row when the claim is good: a TOTP step, a recovery
 * code) and a single-use token's jti in one transaction. The jti row is inserted only when the
 * claim changed a row (`changes()`); a jti inserted before violates the primary key and rolls
 * the whole batch back, claim included. So of any number of racing redemptions of one token,
 * exactly one commits, and a losing racer does not burn its code.
 */
export async function redeemOnce(
  db: TenantDb,
  claim: BatchItem<"sqlite">,
  jti: string,
  expiresAt: number,
): Promise<Redemption> {
  try {
    const [claimed] = await db.batch([
      claim,
      db.run(sql`INSERT INTO consumed_tokens (jti, expires_at) SELECT ${jti}, ${expiresAt} WHERE changes() = 1`),
    ]);
    return (claimed as { rowsAffected: number }).rowsAffected === 1 ? "redeemed" : "claim_failed";
  } catch (err) {
    if (isConstraintViolation(err)) return "token_used";
    throw err;
  }
}

/** Forgets consumed tokens that have expired anyway (hourly sweep). */
export async function pruneConsumedTokens(db: TenantDb, now: number): Promise<number> {
  const r = await db.run(sql`DELETE FROM consumed_tokens WHERE expires_at < ${now}`);
  return r.rowsAffected;
}
