import { and, eq, lt } from "drizzle-orm";
import { AppError } from "../../lib/errors";
import type { PlatformDb } from "../client";
import { idempotencyKeys } from "./schema";

/** A stored response to replay for a repeated Idempotency-Key. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/** Keys older than this are forgotten by the cron sweeper. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

function isUniqueViolation(err: unknown): boolean {
  const code =
    (err as { code?: unknown; cause?: { code?: unknown } } | null)?.code ??
    (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT");
}

/**
 * Claims an idempotency key. Returns null when this request owns it and must run; returns the
 * stored response when an earlier request with the same key and body finished. The claim is an
 * INSERT on the primary key, so two racing requests cannot both own it.
 */
export async function claimIdempotencyKey(
  db: PlatformDb,
  scope: string,
  key: string,
  requestHash: string,
): Promise<StoredResponse | null> {
  try {
    await db.insert(idempotencyKeys).values({ scope, key, requestHash, createdAt: Date.now() }).run();
    return null;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
  const row = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    .get();
  if (!row)
    throw new AppError("idempotency_conflict", "The Idempotency-Key was released meanwhile; retry the request.");
  if (row.requestHash !== requestHash) {
    throw new AppError("idempotency_key_reused", "This Idempotency-Key was used with a different request body.");
  }
  if (row.status === null || row.response === null) {
    throw new AppError(
      "idempotency_in_progress",
      "A request with this Idempotency-Key is still running; retry shortly.",
      {
        headers: { "retry-after": "1" },
      },
    );
  }
  return { status: row.status, body: JSON.parse(row.response) };
}

/** Stores the response of the request that owns the key. */
export async function completeIdempotencyKey(
  db: PlatformDb,
  scope: string,
  key: string,
  res: StoredResponse,
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ status: res.status, response: JSON.stringify(res.body) })
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    .run();
}

/** Releases a key whose request failed, so the client may retry with the same key. */
export async function releaseIdempotencyKey(db: PlatformDb, scope: string, key: string): Promise<void> {
  await db
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    .run();
}

/** Deletes keys past their TTL (cron). Returns how many went. */
export async function sweepIdempotencyKeys(db: PlatformDb, now = Date.now()): Promise<number> {
  const res = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, now - IDEMPOTENCY_TTL_MS))
    .run();
  return res.rowsAffected;
}
