import type { QuotaCfg, QuotaFacts, QuotaOwner, ReserveResult } from "../../durable/protocol/quota";
import { quotaStub, type QuotaStub } from "../../durable/protocol/stubs";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { TenantScope } from "../gateway/context";
import { quotaConfigs, userFacts } from "./facts";
import { giveBack, type Lease, leaseCounters, mayLease, renewLease, settleOwnLease, takeFromLease } from "./leases";
import { settlePacks, takePacks } from "./packs";

/**
 * The quota gate (docs/ai.md, Quotas): before an AI call runs, its estimate is held on the
 * user's quota (the period allowance, then packs) and on the tenant's pool; after it, what it
 * used is settled and the rest returned. A refusal is a 429 `quota_exhausted` before any provider
 * is called. Small calls are served from this isolate's lease when one is open.
 */

/** The most units a lease carries: per user and for the pool. */
const LEASE_MAX = { user: 100, pool: 2_000 } as const;
const LEASE_TTL_MS = 2_000;
/** How often a call refused while leases hold the last units asks again. */
const LEASE_RETRY_MS = 50;
/** Calls estimated above this never use a lease (they are few and large). */
const LEASE_CALL_MAX = 8;

export interface GateRequest {
  /** Null for the tenant's own automatic work: the pool only. */
  userId: string | null;
  feature: string;
  estimate: number;
  /** The hold's life if the call never settles (longer than the call's own timeout). */
  ttlMs: number;
  now?: number;
  /** Never from a lease (the caller has no `waitUntil` to settle one). */
  noLease?: boolean | undefined;
}

type Part =
  | { via: "lease"; key: string; lease: Lease; units: number }
  | { via: "object"; stub: QuotaStub; units: number; packUnits: number };

/** What a running call holds, to be settled once. */
export interface Held {
  id: string;
  userId: string | null;
  feature: string;
  estimate: number;
  startedAt: number;
  user: Part | null;
  pool: Part | null;
}

interface Counter {
  key: string;
  /** The object's stub, made on first use: a check served from a lease never needs one. */
  readonly stub: QuotaStub;
  owner: QuotaOwner;
  cfg: QuotaCfg;
  leaseMax: number;
}

/** Stubs made in this scope's request, per quota object (a stub belongs to its request). */
const scopeStubs = new WeakMap<TenantScope, Map<string, QuotaStub>>();

function stubOnce(s: TenantScope, userId: string | null): QuotaStub {
  let m = scopeStubs.get(s);
  if (!m) scopeStubs.set(s, (m = new Map()));
  const k = userId ?? "";
  let stub = m.get(k);
  if (!stub) m.set(k, (stub = quotaStub(s.env, s.tenant.id, userId)));
  return stub;
}

function counters(s: TenantScope, userId: string | null): { user: Counter | null; pool: Counter | null } {
  const cfg = quotaConfigs(s);
  const t = s.tenant.id;
  return {
    user:
      userId === null
        ? null
        : {
            key: `${t}:u:${userId}`,
            get stub() {
              return stubOnce(s, userId);
            },
            owner: { tenantId: t, scope: "user", userId },
            cfg: cfg.user,
            leaseMax: LEASE_MAX.user,
          },
    pool: cfg.pool
      ? {
          key: `${t}:pool`,
          get stub() {
            return stubOnce(s, null);
          },
          owner: { tenantId: t, scope: "pool" },
          cfg: cfg.pool,
          leaseMax: LEASE_MAX.pool,
        }
      : null,
  };
}

const exhausted = (scope: "user" | "tenant", resetsAt: number, now: number): AppError =>
  new AppError(
    "quota_exhausted",
    scope === "user"
      ? "Your AI quota has no units left for this call."
      : "This app's AI quota has no units left for this call.",
    {
      members: { scope, resetsAt: new Date(resetsAt).toISOString() },
      headers: { "retry-after": String(Math.max(1, Math.ceil((resetsAt - now) / 1000))) },
    },
  );

/**
 * Holds `req.estimate` on the user's quota and the pool, or throws `quota_exhausted`. A refusal
 * while leases hold the last units settles this isolate's own lease and asks again every
 * LEASE_RETRY_MS until no lease holds units (at most twice a lease's life).
 */
export async function hold(s: TenantScope, req: GateRequest, waitUntil: (p: Promise<unknown>) => void): Promise<Held> {
  const startedAt = req.now ?? Date.now();
  const held: Held = {
    id: `q_${newId(startedAt)}`,
    userId: req.userId,
    feature: req.feature,
    estimate: req.estimate,
    startedAt,
    user: null,
    pool: null,
  };
  const c = counters(s, req.userId);
  const leasing =
    s.tenant.config.ai.lease.enabled && req.estimate <= LEASE_CALL_MAX && req.now === undefined && !req.noLease;
  try {
    if (c.user) held.user = await holdOn(s, c.user, held, req, leasing, waitUntil, "user");
    if (c.pool) held.pool = await holdOn(s, c.pool, held, req, leasing, waitUntil, "tenant");
    return held;
  } catch (err) {
    // Whatever was held before the refusal goes back.
    await release(s, held).catch(() => undefined);
    throw err;
  }
}

async function holdOn(
  s: TenantScope,
  c: Counter,
  held: Held,
  req: GateRequest,
  leasing: boolean,
  waitUntil: (p: Promise<unknown>) => void,
  scope: "user" | "tenant",
): Promise<Part> {
  const units = req.estimate;
  const began = Date.now();
  for (let attempt = 0; ; attempt++) {
    const now = req.now ?? Date.now();
    if (leasing && attempt === 0) {
      const fromLease =
        takeFromLease(c.key, units, now) ?? (mayLease(c.key, now) ? await leaseFor(s, c, units, waitUntil, now) : null);
      if (fromLease) {
        leaseCounters.hits++;
        return { via: "lease", key: c.key, lease: fromLease, units };
      }
    }
    leaseCounters.misses++;
    const partial = c.owner.scope === "user";
    const ask = (facts?: QuotaFacts): Promise<ReserveResult> =>
      c.stub.reserve({
        owner: c.owner,
        cfg: c.cfg,
        facts,
        id: held.id,
        units,
        feature: req.feature,
        ttlMs: req.ttlMs,
        partial,
        now: req.now,
      });
    let r = await ask();
    if (r.kind === "stale") r = await ask(await userFacts(s, c.owner.userId!, now));
    if (r.kind === "stale") throw new Error("quota object refused fresh facts");
    if (r.short === 0) return { via: "object", stub: c.stub, units: r.held, packUnits: 0 };
    if (partial) {
      // The period allowance covers `held`; packs must cover the rest, or the call is refused.
      const packs = await takePacks(s, c.owner.userId!, held.id, r.short, now + req.ttlMs, now);
      if (packs.ok) return { via: "object", stub: c.stub, units: r.held, packUnits: r.short };
      if (r.held > 0) await c.stub.settle({ id: held.id, used: 0, now: req.now, packs: packs.left });
    }
    // Units leases hold come back when those end: this isolate's own at once, the others' when
    // their isolates settle them (before they expire, or the object charges them at expiry). The
    // call asks again until no lease holds units of the period (at most a lease's life).
    if (r.leasedUntil !== null && Date.now() - began < 2 * LEASE_TTL_MS) {
      const own = await settleOwnLease(c.key).catch(() => false);
      if (!own) await new Promise((resolve) => setTimeout(resolve, LEASE_RETRY_MS));
      continue;
    }
    throw exhausted(scope, r.period.end, now);
  }
}

async function leaseFor(
  s: TenantScope,
  c: Counter,
  units: number,
  waitUntil: (p: Promise<unknown>) => void,
  now: number,
): Promise<Lease | null> {
  const env = s.env;
  const { tenantId, userId } = c.owner;
  const got = await renewLease(
    c.key,
    async () => {
      const ask = (facts?: QuotaFacts) =>
        c.stub.lease({
          owner: c.owner,
          cfg: c.cfg,
          facts,
          maxUnits: c.leaseMax,
          minUnits: 2 * units,
          ttlMs: LEASE_TTL_MS,
        });
      let r = await ask();
      if (r.kind === "stale") r = await ask(await userFacts(s, c.owner.userId!, now));
      return r.kind === "lease"
        ? { id: r.id, units: r.units, expiresAt: r.expiresAt, periodStart: r.periodStart }
        : null;
    },
    () => quotaStub(env, tenantId, userId ?? null),
    waitUntil,
  );
  return got ? takeFromLease(c.key, units, Date.now()) : null;
}

/** The pack units a settle of `used` keeps (the user's part beyond the period allowance). */
export function packShare(held: Held, used: number): number {
  const part = held.user;
  if (!part || part.via === "lease") return 0;
  const u = Math.max(0, Math.min(used, held.estimate));
  return Math.min(u - Math.min(u, part.units), part.packUnits);
}

/**
 * Settles a call: `used` (at most the estimate) is charged, the rest of every hold returned.
 * Each part (user, pool) is cleared once it settled, so after a failure (a database restart) the
 * same settle can run again and does only what is left: the object's and the packs' settles are
 * themselves idempotent, a lease's give-back is not and never runs twice.
 */
export async function settle(s: TenantScope, held: Held, used: number, now?: number): Promise<void> {
  const u = Math.max(0, Math.min(used, held.estimate));
  const jobs = (["user", "pool"] as const).map(async (which) => {
    const part = held[which];
    if (!part) return;
    if (part.via === "lease") {
      held[which] = null;
      await giveBack(part.lease, part.units - u);
      return;
    }
    const periodUsed = Math.min(u, part.units);
    const packUsed = Math.min(u - periodUsed, part.packUnits);
    await Promise.all([
      part.units > 0 ? part.stub.settle({ id: held.id, used: periodUsed, now }) : undefined,
      part.packUnits > 0 ? settlePacks(s, held.id, part.packUnits, packUsed) : undefined,
    ]);
    held[which] = null;
  });
  const failed = (await Promise.allSettled(jobs)).find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** Returns everything a call holds (it never ran). */
export const release = (s: TenantScope, held: Held, now?: number): Promise<void> => settle(s, held, 0, now);
