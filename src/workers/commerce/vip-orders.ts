import type { SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../../db/client";
import {
  applyScheduleOps,
  livePeriodsQuery,
  type MemberRow,
  memberQuery,
  type PeriodRow,
  toPeriods,
  versionGuard,
} from "../../db/tenant/vip";
import type { DomainEvent } from "../../db/tenant/outbox";
import { newId } from "../../lib/ids";
import type { TenantScope } from "../gateway/context";
import type { PricedOrder } from "./pricing";
import { planPurchase, planRevoke, type VipPlan } from "./vip-plan";
import { nextCheckAt, vipStatus } from "./vip-levels";

/**
 * What orders and refunds need of VIP (docs/commerce.md, VIP): the buyer's discount now, and the
 * schedule changes of VIP lines, planned from the periods read with the order and applied in the
 * order's batch only if the schedule is still at the version read.
 */
export interface OrderVip {
  discountPercent: number;
  /** The order's extra gate condition (the schedule unchanged), when it changes the schedule. */
  guard(priced: PricedOrder): SQL | null;
  ops(db: TenantDb, orderId: string, priced: PricedOrder, gate: SQL): BatchItem<"sqlite">[];
}

/** Applies a plan to a working list of live periods. */
function applied(periods: PeriodRow[], plan: VipPlan, now: number): PeriodRow[] {
  const gone = new Set(plan.revoke);
  const added = plan.add.map((p) => ({ ...p, createdAt: now }));
  return [...periods.filter((p) => !gone.has(p.id)), ...added].sort((a, b) => a.startsAt - b.startsAt);
}

/**
 * The instant a change is planned at: now, or the last change of the schedule if that is later.
 * Two requests a millisecond apart commit in either order; planning the later-committed one at
 * an instant before the schedule it reads would treat the other's new period as queued.
 */
const planningInstant = (periods: PeriodRow[], now: number) => Math.max(now, ...periods.map((p) => p.createdAt));

/** The schedule change of a plan: periods, what to announce, and vip.changed if the level or its end moved. */
function changeOf(
  s: TenantScope,
  userId: string,
  before: PeriodRow[],
  plan: VipPlan,
  member: MemberRow | null,
  reason: "purchase" | "refund",
  now: number,
) {
  const after = applied(before, plan, now);
  const was = vipStatus(s.tenant.config, before, now);
  const is = vipStatus(s.tenant.config, after, now);
  const event: DomainEvent | null =
    was.level !== is.level || was.expiresAt !== is.expiresAt
      ? {
          type: "vip.changed",
          subject: userId,
          data: {
            userId,
            level: is.level,
            previousLevel: member?.announcedLevel ?? was.level,
            expiresAt: is.expiresAt === null ? null : new Date(is.expiresAt).toISOString(),
            reason,
          },
        }
      : null;
  return {
    add: plan.add,
    revoke: plan.revoke,
    announce: { level: is.level, expiresAt: is.expiresAt, nextCheckAt: nextCheckAt(after, now, null) },
    event,
  };
}

/** The reads an order needs for VIP (batched with its claim), and the plan made from their results. */
export function orderVip(s: TenantScope, userId: string, now: number) {
  return {
    reads: [livePeriodsQuery(s.db, userId, now), memberQuery(s.db, userId)] as BatchItem<"sqlite">[],
    plan(results: unknown[]): OrderVip {
      const periods = toPeriods(results[0] as Parameters<typeof toPeriods>[0]);
      const member = (results[1] as MemberRow[])[0] ?? null;
      const at = planningInstant(periods, now);
      const status = vipStatus(s.tenant.config, periods, at);
      const vipLines = (p: PricedOrder) => p.lines.filter((l) => l.product.kind === "vip");
      return {
        discountPercent: status.benefits.discountPercent,
        guard: (p) => (vipLines(p).length ? versionGuard(userId, member) : null),
        ops(db, orderId, priced, gate) {
          const lines = vipLines(priced);
          if (!lines.length) return [];
          let working = periods;
          const plan: VipPlan = { add: [], revoke: [] };
          for (const l of lines) {
            const g = JSON.parse(l.product.grants) as { level: number; days: number };
            const step = planPurchase(
              working,
              {
                level: g.level,
                days: g.days * l.quantity,
                valueAmount: l.total,
                valueCurrency: priced.currency,
                orderId,
              },
              at,
              () => newId(at),
            );
            working = applied(working, step, at);
            // A period added by an earlier line and revoked by this one was never written.
            const added = new Set(plan.add.map((p) => p.id));
            plan.add = [...plan.add.filter((p) => !step.revoke.includes(p.id)), ...step.add];
            plan.revoke.push(...step.revoke.filter((id) => !added.has(id)));
          }
          return applyScheduleOps(db, userId, changeOf(s, userId, periods, plan, member, "purchase", at), gate, at);
        },
      };
    },
  };
}

/** The reads a refund needs for VIP, and the statements removing the order's remaining time. */
export function refundVip(s: TenantScope, userId: string, now: number) {
  return {
    reads: [livePeriodsQuery(s.db, userId, now), memberQuery(s.db, userId)] as BatchItem<"sqlite">[],
    plan(results: unknown[], orderId: string) {
      const periods = toPeriods(results[0] as Parameters<typeof toPeriods>[0]);
      const member = (results[1] as MemberRow[])[0] ?? null;
      const at = planningInstant(periods, now);
      const plan = planRevoke(periods, orderId, at, () => newId(at));
      const touches = plan.add.length > 0 || plan.revoke.length > 0;
      return {
        guard: touches ? versionGuard(userId, member) : null,
        ops: (db: TenantDb, gate: SQL) =>
          touches
            ? applyScheduleOps(db, userId, changeOf(s, userId, periods, plan, member, "refund", now), gate, now)
            : [],
      };
    },
  };
}
