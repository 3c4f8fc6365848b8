import { platformDb } from "../db/client";
import { sweepIdempotencyKeys } from "../db/platform/idempotency";
import { log } from "../lib/log";

/** The minute cron: housekeeping that must not depend on traffic. */
export async function runCron(env: Env, now = Date.now()): Promise<{ idempotencyKeysSwept: number }> {
  const idempotencyKeysSwept = await sweepIdempotencyKeys(platformDb(env), now);
  if (idempotencyKeysSwept > 0) log("info", "cron: swept idempotency keys", { count: idempotencyKeysSwept });
  return { idempotencyKeysSwept };
}
