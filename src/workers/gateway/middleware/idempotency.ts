import { z } from "@hono/zod-openapi";
import { platformDb } from "../../../db/client";
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from "../../../db/platform/idempotency";
import { sha256Hex } from "../../../lib/crypto";

/** The `Idempotency-Key` request header of non-repeatable POSTs (docs/errors.md, idempotency). */
export const IdempotencyHeaderSchema = z.object({
  "idempotency-key": z
    .string()
    .min(8)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
    .optional()
    .openapi({ description: "Makes the request safe to retry: the first response is replayed for 24 h." }),
});

/**
 * Runs a non-repeatable operation at most once per key: a retry with the same key and body gets
 * the first answer back (`replayed`), one with another body 422 `idempotency_key_reused`, one
 * while the first still runs 409 `idempotency_in_progress`. A failed run releases the key, so
 * the client can retry with it. Keys live in the platform DB under `scope` (which names the
 * operation and, for tenant routes, the tenant and caller) for 24 h. Without a key it just runs.
 */
export async function onceByKey<T>(
  env: Env,
  scope: string,
  key: string | undefined,
  input: unknown,
  run: () => Promise<{ status: number; body: T }>,
): Promise<{ status: number; body: T; replayed: boolean }> {
  if (!key) return { ...(await run()), replayed: false };
  const db = platformDb(env);
  const replay = await claimIdempotencyKey(db, scope, key, await sha256Hex(JSON.stringify(input)));
  if (replay) return { status: replay.status, body: replay.body as T, replayed: true };
  try {
    const answer = await run();
    await completeIdempotencyKey(db, scope, key, answer);
    return { ...answer, replayed: false };
  } catch (err) {
    await releaseIdempotencyKey(db, scope, key).catch(() => undefined);
    throw err;
  }
}

/** The response header that marks a replayed answer. */
export const replayedHeader = (replayed: boolean): Record<string, string> =>
  replayed ? { "idempotent-replayed": "true" } : {};
