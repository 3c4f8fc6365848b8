import { pruneChallenges } from "../../db/tenant/email-challenges";
import type { TenantSweep } from "../events/cron";

/** Hourly: forgets email challenges that ended a day ago (used ones end at once, unused ones expire). */
export const emailChallengeSweep: TenantSweep = async ({ db }, now): Promise<Record<string, number>> => {
  if (new Date(now).getUTCMinutes() !== 0) return {};
  return { emailChallengesPruned: await pruneChallenges(db, now) };
};
