import type { PeriodRow } from "../../db/tenant/vip";
import type { TenantConfig } from "../../lib/tenant-config";
import { type Benefits, levelDef, NO_BENEFITS } from "../../lib/vip-access";
import { DAY_MS, levelAt } from "./vip-plan";

/** How long before expiry `vip.expiring` goes out. */
export const EXPIRING_NOTICE_MS = 3 * DAY_MS;

/** A user's membership at an instant, as GET /v1/me/vip shows it. */
export interface VipStatus {
  level: number;
  name: string | null;
  since: number | null;
  expiresAt: number | null;
  benefits: Benefits;
}

/**
 * The membership at `now` from the live periods. A level that is no longer in the tenant's config
 * (removed after it was bought) counts as the highest configured level below it.
 */
export function vipStatus(config: TenantConfig, periods: PeriodRow[], now: number): VipStatus {
  const at = levelAt(periods, now);
  if (at.level === 0) return { level: 0, name: null, since: null, expiresAt: null, benefits: NO_BENEFITS };
  const def = levelDef(config, at.level);
  return {
    level: at.level,
    name: def?.name ?? null,
    since: at.since,
    expiresAt: at.expiresAt,
    benefits: def?.benefits ?? NO_BENEFITS,
  };
}

/**
 * When the sweep should look at a member again: the next instant the level can change (a period
 * starts or ends) or the expiry notice falls due; null when nothing is ahead.
 */
export function nextCheckAt(periods: PeriodRow[], now: number, noticeSentFor: number | null): number | null {
  const at = levelAt(periods, now);
  const times = periods.flatMap((p) => [p.startsAt, p.endsAt]).filter((t) => t > now);
  if (at.expiresAt !== null && at.expiresAt !== noticeSentFor) {
    times.push(Math.max(now + 1, at.expiresAt - EXPIRING_NOTICE_MS));
  }
  return times.length ? Math.min(...times) : null;
}
