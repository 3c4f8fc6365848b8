/**
 * VIP schedule planning: pure functions from a user's live periods (rows of `vip_periods` without
 * `revoked_at`) to the rows to add and the rows to revoke. No I/O, no clock, no id source of its
 * own: the caller passes `now` and `newId`, applies the plan in one batch and re-plans on a
 * version conflict. History is never rewritten: a period that must change is revoked and replaced.
 *
 * Rules (times in ms, half-open `[startsAt, endsAt)`; a period with `endsAt <= now` is history and
 * is never revoked or moved; after a plan is applied no two periods overlap):
 * - Same level as the one active now: the new period starts at the end of the current level's
 *   contiguous chain; every queued period from there on moves later by the new period's duration.
 * - Lower level: starts at the end of the whole schedule.
 * - Higher level (or none active): starts now. Every running or queued period of a lower level is
 *   cut: the running one keeps its used part `[startsAt, now)` as history, and the remaining time
 *   of each converts into extra time on the new level when both are paid in the same currency.
 *   The extra time follows the new period as a `conversion` period (new level, the cut period's
 *   currency and `orderId`, so refunding that order removes it too). Free periods, periods paid
 *   in another currency and everything under a free purchase are not converted but deferred: the
 *   remaining time, same level, after the new level's periods.
 * - Refund: the order's running and queued periods (its conversions included) are revoked, the
 *   running one keeping its used part as history; every later queued period moves earlier by the
 *   removed time, so the schedule keeps no gap.
 * - Gaps between periods (only admin grants queued ahead make them) are kept: a moved period keeps
 *   the gap before it, except that the gap before a converted period closes.
 *
 * Proration (open question 11: the value actually paid, so a refund and a conversion agree):
 *
 *   remainingValue = floor(valueAmount × remainingMs / periodMs)
 *   extraMs        = floor(remainingMs × valueAmount × newDurationMs / (periodMs × newValueAmount))
 *
 * computed in bigint, where `periodMs` is the cut period's full duration, `remainingMs` its time
 * after `now` (all of it when queued) and `newValueAmount`/`newDurationMs` the purchase's price and
 * length. The conversion period carries `remainingValue`, so it is worth the new level's rate and
 * converts again at that rate; the history part keeps `valueAmount − remainingValue`, so the values
 * of the two parts add up to what was paid. A remainder worth less than 1 ms of the new level
 * (`extraMs = 0`) is dropped.
 *
 * A worked example is in docs/commerce.md (VIP, proration).
 */
import { byStart, chainEnd, chainStart, upcoming } from "./vip-chain";

/** One row of a user's VIP schedule. */
export interface VipPeriod {
  id: string;
  level: number;
  startsAt: number;
  endsAt: number;
  /** What was paid for this period, minor units. */
  valueAmount: bigint;
  valueCurrency: string | null;
  source: "order" | "conversion" | "admin";
  orderId: string | null;
}

/** A paid order of a VIP product. */
export interface VipPurchase {
  level: number;
  days: number;
  /** What was paid, minor units; 0 for a free product (then nothing converts into it). */
  valueAmount: bigint;
  valueCurrency: string;
  orderId: string;
}

/** Rows to insert and ids to mark revoked, both ordered by `startsAt`. */
export interface VipPlan {
  add: VipPeriod[];
  /** Ids of existing periods cut or replaced. */
  revoke: string[];
}

/** A user's level at one instant. */
export interface VipLevel {
  level: number;
  /** Start of the current level's contiguous chain; null at level 0. */
  since: number | null;
  /** End of the current level's contiguous chain (the level changes then); null at level 0. */
  expiresAt: number | null;
}

export const DAY_MS = 86_400_000;

/** The latest instant a `Date` can hold; a plan reaching past it is refused. */
const MAX_TIME_MS = 8.64e15;

type Draft = Omit<VipPeriod, "id">;

/**
 * The level at `now`: the highest level among periods running then. `since`/`expiresAt` bound the
 * chain of touching periods of that same level, so `expiresAt` is when this level ends (to a lower
 * queued level or to 0), not when the user drops to level 0.
 */
export function levelAt(periods: readonly VipPeriod[], now: number): VipLevel {
  let top: VipPeriod | undefined;
  for (const p of periods) {
    if (p.startsAt <= now && now < p.endsAt && (top === undefined || p.level > top.level)) top = p;
  }
  if (top === undefined || top.level < 1) return { level: 0, since: null, expiresAt: null };
  return { level: top.level, since: chainStart(periods, top), expiresAt: chainEnd(periods, top) };
}

/**
 * Plans a paid VIP order for a user whose live periods are `existing` (any order, not overlapping,
 * history included or not). Throws RangeError on a level or days below 1, a negative value, or a
 * schedule reaching past the `Date` range.
 */
export function planPurchase(
  existing: readonly VipPeriod[],
  p: VipPurchase,
  now: number,
  newId: () => string,
): VipPlan {
  checkPurchase(p, now);
  const durationMs = p.days * DAY_MS;
  const bought = (startsAt: number): Draft => ({
    level: p.level,
    startsAt,
    endsAt: startsAt + durationMs,
    valueAmount: p.valueAmount,
    valueCurrency: p.valueCurrency,
    source: "order",
    orderId: p.orderId,
  });
  const live = upcoming(existing, now);
  const current = levelAt(live, now).level;
  const plan = new PlanDraft(now);

  if (p.level === current) {
    const running = live.find((q) => q.startsAt <= now && q.level === current);
    const end = running ? chainEnd(live, running) : now;
    plan.add(bought(end));
    for (const q of live) if (q.startsAt >= end) plan.move(q, q.startsAt + durationMs);
  } else if (p.level < current) {
    plan.add(bought(Math.max(...live.map((q) => q.endsAt))));
  } else {
    planUpgrade(plan, live, bought(now), now);
  }
  return plan.finish(newId);
}

/** Plans the refund of a VIP order: its remaining time goes and later periods close the gap. */
export function planRevoke(existing: readonly VipPeriod[], orderId: string, now: number, newId: () => string): VipPlan {
  const plan = new PlanDraft(now);
  let removedMs = 0;
  for (const q of upcoming(existing, now)) {
    if (q.orderId === orderId) {
      removedMs += q.endsAt - Math.max(q.startsAt, now);
      plan.cut(q);
    } else if (q.startsAt > now) {
      plan.move(q, q.startsAt - removedMs);
    }
  }
  return plan.finish(newId);
}

/**
 * New period first, then the conversions in schedule order, then queued periods at or above the new
 * level, then the deferred ones. A queued period that is not converted keeps the gap it had before
 * it (only admin grants make gaps), as the same-level and refund rules do; the gap before a
 * converted period closes.
 */
function planUpgrade(plan: PlanDraft, live: VipPeriod[], bought: Draft, now: number): void {
  plan.add(bought);
  const newMs = BigInt(bought.endsAt - bought.startsAt);
  let cursor = bought.endsAt;
  // Queued periods placed after the conversions, with the gap each had before it.
  const kept: { q: VipPeriod; gapMs: number }[] = [];
  const deferred: { q: VipPeriod; gapMs: number }[] = [];
  let deferredRemainder: Draft | undefined;
  let previousEnd = now;

  for (const q of live) {
    const gapMs = Math.max(0, q.startsAt - previousEnd);
    previousEnd = Math.max(previousEnd, q.endsAt);
    if (q.level >= bought.level) {
      kept.push({ q, gapMs });
      continue;
    }
    const convertible = q.valueCurrency === bought.valueCurrency && q.valueAmount > 0n && bought.valueAmount > 0n;
    if (!convertible && q.startsAt > now) {
      deferred.push({ q, gapMs });
      continue;
    }
    const remainder = plan.cut(q);
    if (!convertible) {
      // Only the running period is cut without converting; it comes first among the deferred.
      deferredRemainder = remainder;
      continue;
    }
    const remainingMs = BigInt(remainder.endsAt - remainder.startsAt);
    const periodMs = BigInt(q.endsAt - q.startsAt);
    const extraMs = Number((remainingMs * q.valueAmount * newMs) / (periodMs * bought.valueAmount));
    if (extraMs === 0) continue;
    plan.add({ ...remainder, level: bought.level, startsAt: cursor, endsAt: cursor + extraMs, source: "conversion" });
    cursor += extraMs;
  }

  for (const { q, gapMs } of kept) cursor = plan.move(q, cursor + gapMs);
  if (deferredRemainder) {
    const durationMs = deferredRemainder.endsAt - deferredRemainder.startsAt;
    plan.add({ ...deferredRemainder, startsAt: cursor, endsAt: cursor + durationMs });
    cursor += durationMs;
  }
  for (const { q, gapMs } of deferred) cursor = plan.move(q, cursor + gapMs);
}

/** The rows a plan adds and revokes, collected before ids are handed out. */
class PlanDraft {
  private readonly added: Draft[] = [];
  private readonly revoked: VipPeriod[] = [];

  constructor(private readonly now: number) {}

  add(d: Draft): void {
    this.added.push(d);
  }

  /** Moves `q` to start at `startsAt` (revoke + copy) unless it already does; returns its new end. */
  move(q: VipPeriod, startsAt: number): number {
    const endsAt = startsAt + (q.endsAt - q.startsAt);
    if (startsAt !== q.startsAt) {
      this.revoked.push(q);
      this.added.push({ ...withoutId(q), startsAt, endsAt });
    }
    return endsAt;
  }

  /**
   * Revokes `q` and keeps its used part `[startsAt, now)` as history. The value splits pro rata:
   * the remainder (returned, not added) is worth floor(valueAmount × remainingMs / periodMs), the
   * history part the rest, so a later conversion of the remainder is not overvalued.
   */
  cut(q: VipPeriod): Draft {
    this.revoked.push(q);
    const startsAt = Math.max(q.startsAt, this.now);
    const remainingValue = (q.valueAmount * BigInt(q.endsAt - startsAt)) / BigInt(q.endsAt - q.startsAt);
    if (q.startsAt < this.now) {
      this.added.push({ ...withoutId(q), endsAt: this.now, valueAmount: q.valueAmount - remainingValue });
    }
    return { ...withoutId(q), startsAt, valueAmount: remainingValue };
  }

  /** Ids are drawn in `startsAt` order, so the same schedule always gets the same plan. */
  finish(newId: () => string): VipPlan {
    const added = this.added.sort((a, b) => a.startsAt - b.startsAt);
    if (added.some((d) => d.endsAt > MAX_TIME_MS)) throw new RangeError("VIP schedule reaches past the time range");
    return {
      add: added.map((d) => ({ id: newId(), ...d })),
      revoke: this.revoked.sort(byStart).map((q) => q.id),
    };
  }
}

function withoutId(p: VipPeriod): Draft {
  const { id: _id, ...rest } = p;
  return rest;
}

function checkPurchase(p: VipPurchase, now: number): void {
  if (!Number.isSafeInteger(p.level) || p.level < 1) throw new RangeError(`VIP level must be ≥ 1, got ${p.level}`);
  if (!Number.isSafeInteger(p.days) || p.days < 1) throw new RangeError(`VIP days must be ≥ 1, got ${p.days}`);
  if (p.valueAmount < 0n) throw new RangeError("VIP value must not be negative");
  if (!Number.isSafeInteger(now)) throw new RangeError(`now must be an integer of ms, got ${now}`);
}
