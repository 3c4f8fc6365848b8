import { dueMembers, noticeSent, sweepMemberOps, vipStateOf } from "../../db/tenant/vip";
import type { TenantScope } from "../gateway/context";
import { EXPIRING_NOTICE_MS, nextCheckAt, vipStatus } from "./vip-levels";

/** Members looked at per tenant per minute (the rest wait for the next minute). */
const BATCH = 200;

const isoOrNull = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/**
 * The minute cron's VIP work (docs/commerce.md, VIP): for every member whose next boundary has
 * passed, announce a level that changed (`vip.changed`, reason `expired` or `started`) and, three
 * days before a level ends, `vip.expiring` once per expiry. Access never waits for this: the
 * level is computed from the periods at request time; the sweep only tells people.
 */
export async function vipSweep(s: TenantScope, now: number): Promise<Record<string, number>> {
  const due = await dueMembers(s.db, now, BATCH);
  let changed = 0;
  let expiring = 0;
  for (const userId of due) {
    const { periods, member } = await vipStateOf(s.db, userId, now);
    if (!member) continue;
    const v = vipStatus(s.tenant.config, periods, now);
    const moved = v.level !== member.announcedLevel || v.expiresAt !== member.announcedExpiresAt;
    const noticeDue = v.expiresAt !== null && v.level > 0 && v.expiresAt - now <= EXPIRING_NOTICE_MS;
    const sent = noticeDue && v.expiresAt !== null ? await noticeSent(s.db, userId, v.expiresAt) : false;
    const res = await sweepMemberOps(
      s.db,
      userId,
      member,
      {
        level: v.level,
        expiresAt: v.expiresAt,
        nextCheckAt: nextCheckAt(periods, now, noticeDue ? v.expiresAt : null),
      },
      {
        changed: moved
          ? {
              type: "vip.changed",
              subject: userId,
              data: {
                userId,
                level: v.level,
                previousLevel: member.announcedLevel,
                expiresAt: isoOrNull(v.expiresAt),
                reason: v.level < member.announcedLevel ? "expired" : "started",
              },
            }
          : null,
        expiring:
          noticeDue && !sent && v.expiresAt !== null
            ? {
                expiresAt: v.expiresAt,
                event: {
                  type: "vip.expiring",
                  subject: userId,
                  data: { userId, level: v.level, name: v.name, expiresAt: isoOrNull(v.expiresAt) },
                },
              }
            : null,
      },
      now,
    );
    if (res.changed) changed++;
    if (res.expiring) expiring++;
  }
  return due.length ? { vipChecked: due.length, vipChanged: changed, vipExpiring: expiring } : {};
}
