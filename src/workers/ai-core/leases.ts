import type { QuotaStub } from "../../durable/protocol/stubs";

/**
 * Quota leases held by this isolate (docs/ai.md, the lease): units a quota object counted as
 * held in full, which calls of this isolate take synchronously, without a round trip. A lease
 * is used until LEASE_MARGIN_MS before it expires and then settled with what was taken, so the
 * object (which charges an unsettled lease in full at its expiry) never counts a unit twice or
 * lets one be granted twice: the over-grant bound is zero.
 */

/** A lease stops granting this long before its expiry, leaving time for its settle to arrive. */
export const LEASE_MARGIN_MS = 500;
/** How many counters keep a lease per isolate; the least recently used is settled and dropped. */
const MAX_LEASES = 10_000;

export interface Lease {
  id: string;
  /**
   * A stub made in the caller's context: stubs (like every I/O object) belong to the request that
   * made them, and a lease outlives the request that asked for it.
   */
  stub: () => QuotaStub;
  /** Units still to grant. */
  left: number;
  /** Units granted from it (what its settle charges). */
  taken: number;
  expiresAt: number;
  /** The period the object counts the lease in (a late give-back is refunded there). */
  periodStart: number;
  settled: boolean;
}

export interface LeaseCounters {
  /** Checks served from a lease without a round trip. */
  hits: number;
  /** Checks that went to the object. */
  misses: number;
}

const leases = new Map<string, Lease>();
/**
 * Counters with a lease request on its way. Other requests do not wait for it (a promise of one
 * request awaited by another runs the waiter's continuation in the wrong I/O context; see
 * src/lib/settled-cache.ts): they go to the object directly meanwhile.
 */
const inflight = new Set<string>();
/** Counters whose object carved no lease lately: their calls go straight to it for a while. */
const coolOff = new Map<string, number>();
const COOL_OFF_MS = 1_000;

/** Whether asking `key`'s object for a lease is worth a round trip now. */
export function mayLease(key: string, now: number): boolean {
  const until = coolOff.get(key);
  if (until === undefined) return true;
  if (now < until) return false;
  coolOff.delete(key);
  return true;
}
/** Counted per isolate for the benchmark and operators (docs/performance.md). */
export const leaseCounters: LeaseCounters = { hits: 0, misses: 0 };

/** Takes `units` from this isolate's lease on `key`, if it has one that can still grant them. */
export function takeFromLease(key: string, units: number, now: number): Lease | null {
  const l = leases.get(key);
  if (!l || l.settled || now >= l.expiresAt - LEASE_MARGIN_MS || l.left < units) return null;
  l.left -= units;
  l.taken += units;
  // Most recently used last, so the oldest entry is the one to drop.
  leases.delete(key);
  leases.set(key, l);
  return l;
}

/**
 * Gives back what a leased call did not use: to the lease while it grants; once it is settled
 * (the call outlived it), the object charged those units, so they are refunded there.
 */
export async function giveBack(l: Lease, units: number): Promise<void> {
  if (units <= 0) return;
  if (!l.settled) {
    l.left += units;
    l.taken -= units;
    return;
  }
  await l.stub().refund({ periodStart: l.periodStart, units });
}

/** Ends a lease: the object charges what was taken and frees the rest. Once. */
export async function settleLease(key: string, l: Lease): Promise<void> {
  if (l.settled) return;
  l.settled = true;
  if (leases.get(key) === l) leases.delete(key);
  await l.stub().settle({ id: l.id, used: l.taken });
}

/**
 * Settles this isolate's open lease on `key` now, if it has one: a call the object refused while
 * leases held the last units gives back this isolate's unused ones at once instead of waiting for
 * the lease's timer. True when there was one.
 */
export async function settleOwnLease(key: string): Promise<boolean> {
  const l = leases.get(key);
  if (!l || l.settled) return false;
  await settleLease(key, l);
  return true;
}

/**
 * A fresh lease for `key`, or null when the object carved none or another request is asking for
 * one right now. `ask` is the object's `lease` call. The lease is settled LEASE_MARGIN_MS before
 * it expires through `waitUntil` of the request that asked (or at once when it is replaced).
 */
export async function renewLease(
  key: string,
  ask: () => Promise<{ id: string; units: number; expiresAt: number; periodStart: number } | null>,
  stub: () => QuotaStub,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Lease | null> {
  if (inflight.has(key)) return null;
  inflight.add(key);
  try {
    const old = leases.get(key);
    if (old) waitUntil(settleLease(key, old).catch(() => undefined));
    const got = await ask();
    if (!got) {
      if (coolOff.size >= MAX_LEASES) coolOff.clear();
      coolOff.set(key, Date.now() + COOL_OFF_MS);
      return null;
    }
    const l: Lease = {
      id: got.id,
      stub,
      left: got.units,
      taken: 0,
      expiresAt: got.expiresAt,
      periodStart: got.periodStart,
      settled: false,
    };
    leases.set(key, l);
    if (leases.size > MAX_LEASES) {
      const [oldestKey, oldest] = leases.entries().next().value!;
      waitUntil(settleLease(oldestKey, oldest).catch(() => undefined));
    }
    const wait = Math.max(0, l.expiresAt - LEASE_MARGIN_MS - Date.now());
    waitUntil(new Promise((r) => setTimeout(r, wait)).then(() => settleLease(key, l).catch(() => undefined)));
    return l;
  } finally {
    inflight.delete(key);
  }
}
