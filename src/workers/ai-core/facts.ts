import { packGrantsQuery, packsLeft, vipFacts, type PackGrant } from "../../db/tenant/ai-quota";
import type { QuotaCfg, QuotaFacts } from "../../durable/protocol/quota";
import { periodAt } from "../../lib/periods";
import { levelDef } from "../../lib/vip-access";
import type { TenantScope } from "../gateway/context";

/** Bonus facts are trusted this long at most (a VIP change also reaches the object through its event). */
export const FACTS_TTL_MS = 10 * 60_000;

/** The user's quota config and the pool's (null: unlimited, so no pool object is involved). */
export function quotaConfigs(s: TenantScope): { user: QuotaCfg; pool: QuotaCfg | null } {
  const { quota, pool } = s.tenant.config.ai;
  return {
    user: { units: quota.units, period: quota.period, timeZone: quota.timeZone },
    pool: pool.units === null ? null : { units: pool.units, period: pool.period, timeZone: pool.timeZone },
  };
}

/** Packs count from this instant: the period start when they expire at reset, else all of them. */
export function packsSince(s: TenantScope, now: number): number {
  const q = s.tenant.config.ai.quota;
  return q.packsExpireAtReset ? periodAt(q.period, q.timeZone, now).start : 0;
}

export async function livePacks(s: TenantScope, userId: string, now: number): Promise<PackGrant[]> {
  return packGrantsQuery(s.db, userId, packsSince(s, now));
}

/**
 * What the user's quota object cannot know: the VIP bonus now and until when it holds, and the
 * units left in packs. Two reads of the tenant database, sent together.
 */
export async function userFacts(s: TenantScope, userId: string, now: number): Promise<QuotaFacts> {
  const [vip, packs] = await Promise.all([vipFacts(s.db, userId, now), livePacks(s, userId, now)]);
  const bonusPercent = levelDef(s.tenant.config, vip.level)?.benefits.aiQuotaBonusPercent ?? 0;
  const validUntil = Math.min(vip.until ?? Number.POSITIVE_INFINITY, now + FACTS_TTL_MS);
  return { bonusPercent, validUntil, packs: packsLeft(packs) };
}
