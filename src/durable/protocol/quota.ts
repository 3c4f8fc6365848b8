import type { PeriodKind } from "../../lib/periods";

/**
 * The AI quota object's protocol (docs/ai.md, Quotas): what the Worker's gate sends the `Quota`
 * object and what it answers. One object per user (`<tenant>:ai:<user>`) and one per tenant
 * pool (`<tenant>:ai-pool`); each method is one synchronous storage transaction.
 */

/** The allowance of one period, from the tenant's config (the object never reads the config). */
export interface QuotaCfg {
  units: number;
  period: PeriodKind;
  timeZone: string;
}

/** Who the object counts for: its outbox events name the tenant and, for a user, the user. */
export interface QuotaOwner {
  tenantId: string;
  scope: "user" | "pool";
  userId?: string;
}

/**
 * Facts the object cannot know by itself, read by the Worker from the tenant database: the VIP
 * bonus (valid until `validUntil`, then the object asks again by answering `stale`) and the
 * units left in packs (for status and warnings only; packs are spent in the database).
 */
export interface QuotaFacts {
  bonusPercent?: number;
  validUntil?: number;
  packs?: number;
}

export interface QuotaCall {
  owner: QuotaOwner;
  cfg: QuotaCfg;
  facts?: QuotaFacts;
  /** Injectable clock (tests); the object's clock otherwise. */
  now?: number;
}

export interface ReserveRequest extends QuotaCall {
  id: string;
  units: number;
  feature: string;
  /** How long the hold lives if its call never settles (a crash): then its units are returned. */
  ttlMs: number;
  /** Hold what is free even when it is less than `units` (packs cover the rest); else all or nothing. */
  partial: boolean;
}

export interface LeaseRequest extends QuotaCall {
  /** The most units a lease may carry. */
  maxUnits: number;
  /** No lease smaller than this (twice the asking call): near exhaustion every check is exact. */
  minUnits: number;
  ttlMs: number;
}

export interface SettleRequest {
  id: string;
  /** Units actually used, at most what the hold carried. */
  used: number;
  now?: number;
  /** Packs left after this call, when the Worker knows it (refreshes the warning ratio). */
  packs?: number;
}

/** The period's numbers as the object sees them. */
export interface QuotaState {
  period: { start: number; end: number };
  /** `units` plus the bonus. */
  limit: number;
  bonus: number;
  used: number;
  /** Units held by running calls and open leases. */
  reserved: number;
  /** `limit − used − reserved`, never below 0. */
  free: number;
  packs: number;
}

export type ReserveResult =
  | { kind: "stale" }
  | (QuotaState & {
      kind: "held";
      /** Units held (0 when refused). */
      held: number;
      /** `units − held`: what packs must cover (partial), or why the call is refused. */
      short: number;
      /** When refused while leases hold units: the instant the last of them is settled or expires. */
      leasedUntil: number | null;
    });

export type LeaseResult =
  | { kind: "stale" }
  | { kind: "none"; free: number }
  | { kind: "lease"; id: string; units: number; expiresAt: number; periodStart: number; periodEnd: number };

export interface SettleResult {
  /** Units charged to the period. */
  charged: number;
  /** Units given back to the period. */
  returned: number;
  /** Units used beyond what the hold carried, or by a hold already gone: recorded, not charged. */
  unbilled: number;
}

/** Units a settled lease charged that its calls did not use after all (they gave them back late). */
export interface RefundRequest {
  periodStart: number;
  units: number;
  now?: number;
}

export type StatusResult = { kind: "stale" } | (QuotaState & { kind: "status" });
