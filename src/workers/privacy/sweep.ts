import { dueErasures, postponeErasure } from "../../db/tenant/erasure";
import { log } from "../../lib/log";
import { eraseUser } from "../erasure/erase";
import type { TenantSweep } from "../events/cron";

/** Erasures one sweep of one tenant runs at most (each is bounded itself: see eraseUser). */
const PER_SWEEP = 10;
const RETRY_MS = 10 * 60_000;

/**
 * Erases the users whose grace period has ended, and finishes erasures that failed or ran out of
 * budget part way (docs/privacy.md). One user's failure is logged and retried next minute; it
 * does not stop the others.
 */
export const erasureSweep: TenantSweep = async (s, now): Promise<Record<string, number>> => {
  let done = 0;
  let pending = 0;
  for (const userId of await dueErasures(s.db, now, PER_SWEEP)) {
    try {
      const outcome = await eraseUser(s, userId, now);
      if (outcome === "done") done++;
      else if (outcome === "partial") pending++;
    } catch (err) {
      pending++;
      // Tried again later, so a user whose erasure keeps failing does not hold one of the sweep's places.
      await postponeErasure(s.db, userId, now + RETRY_MS).catch(() => undefined);
      log("error", "erasure failed; retried in 10 minutes", { tenant: s.tenant.slug, userId, error: String(err) });
    }
  }
  return done || pending ? { usersErased: done, erasuresPending: pending } : {};
};
