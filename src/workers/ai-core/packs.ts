import type { BatchItem } from "drizzle-orm/batch";
import { isConstraintViolation } from "../../db/constraint";
import { endPackHoldOps, packHoldsQuery, packsLeft, planPacks, takePackOps } from "../../db/tenant/ai-quota";
import type { TenantScope } from "../gateway/context";
import { livePacks } from "./facts";

/** Tries to take a plan again after a concurrent call took the same units first. */
const MAX_TRIES = 3;

/**
 * Takes `units` from the user's packs for reservation `id`, oldest first, in one batch; false
 * when the packs cannot cover them. The grants' CHECK makes a batch that would take more than
 * is left fail whole; then the packs are read again and the plan made anew.
 */
export async function takePacks(
  s: TenantScope,
  userId: string,
  id: string,
  units: number,
  expiresAt: number,
  now: number,
): Promise<{ ok: boolean; left: number }> {
  for (let i = 0; i < MAX_TRIES; i++) {
    const grants = await livePacks(s, userId, now);
    const left = packsLeft(grants);
    const plan = planPacks(grants, units);
    if (!plan) return { ok: false, left };
    try {
      await s.db.batch(takePackOps(s.db, id, plan, expiresAt) as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
      return { ok: true, left: left - units };
    } catch (err) {
      if (!isConstraintViolation(err)) throw err;
    }
  }
  return { ok: false, left: 0 };
}

/**
 * Ends reservation `id`'s pack holds, keeping `used` of `held` units: what is given back goes to
 * the newest grants first (the oldest stay spent). One batch.
 */
export async function settlePacks(s: TenantScope, id: string, held: number, used: number): Promise<void> {
  if (held <= 0) return;
  const holds = await packHoldsQuery(s.db, id);
  let toReturn = Math.max(0, held - used);
  const ops = holds.flatMap((h) => {
    const r = Math.min(toReturn, h.units);
    toReturn -= r;
    return endPackHoldOps(s.db, id, h, r);
  });
  if (ops.length) await s.db.batch(ops as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
}
