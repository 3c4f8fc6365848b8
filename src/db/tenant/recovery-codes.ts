import { and, eq, isNull } from "drizzle-orm";
import type { TenantDb } from "../client";
import { recoveryCodes } from "./schema";

/** Replaces a user's recovery codes (hashes) in one batch. */
export async function replaceRecoveryCodes(db: TenantDb, userId: string, hashes: string[]): Promise<void> {
  await db.batch([
    db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)),
    ...hashes.map((codeHash) => db.insert(recoveryCodes).values({ userId, codeHash })),
  ]);
}

/** Uses a code once: the conditional UPDATE matches for exactly one of any racing callers. */
export async function useRecoveryCode(
  db: TenantDb,
  userId: string,
  codeHash: string,
  now = Date.now(),
): Promise<boolean> {
  const res = await recoveryCodeClaim(db, userId, codeHash, now).run();
  return res.rowsAffected === 1;
}

/** The UPDATE of {@link useRecoveryCode}, for a batch (it changes one row or none). */
export function recoveryCodeClaim(db: TenantDb, userId: string, codeHash: string, now = Date.now()) {
  return db
    .update(recoveryCodes)
    .set({ usedAt: now })
    .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.codeHash, codeHash), isNull(recoveryCodes.usedAt)));
}

export async function deleteRecoveryCodes(db: TenantDb, userId: string): Promise<void> {
  await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId)).run();
}
