import { DurableObject } from "cloudflare:workers";
import { newId } from "../../lib/ids";
import { alarmBy, DurableOutbox, OUTBOX_TABLE_SQL } from "../outbox";
import type {
  LeaseRequest,
  LeaseResult,
  QuotaCall,
  QuotaState,
  RefundRequest,
  ReserveRequest,
  ReserveResult,
  SettleRequest,
  SettleResult,
  StatusResult,
} from "../protocol/quota";
import { migrateStorage, type DoMigration } from "../storage-migrations";
import {
  chargePeriod,
  currentPeriod,
  expireHolds,
  findHold,
  insertHold,
  leasedUntil,
  markWarned,
  nextExpiry,
  QUOTA_V2_SQL,
  readFacts,
  stateOf,
  writeFacts,
} from "./store";
import { metrics } from "../../lib/metrics/recorder";
import { flushTelemetrySoon } from "../protocol/metrics-sink";
import { configureTelemetry } from "../../lib/telemetry";

export interface QuotaResult {
  allowed: boolean;
  used: number;
  limit: number;
  /** Start of the next period (epoch ms), when the counter resets. */
  resetsAt: number;
}

const migrations: readonly DoMigration[] = [
  (sql) =>
    sql.exec(
      "CREATE TABLE usage (metric TEXT NOT NULL, period INTEGER NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (metric, period))",
    ),
  // 2: the AI quota (docs/ai.md): periods, holds, facts and the outbox of its warnings.
  (sql) => {
    for (const stmt of QUOTA_V2_SQL) sql.exec(stmt);
    sql.exec(OUTBOX_TABLE_SQL);
  },
];

/** How long after the last open lease ends no new one is carved, once a call was refused while leases held units. */
const LEASE_PAUSE_MS = 2_000;

/** Warning levels by the share of the quota left (docs/ai.md, Warnings): 1 at 20 %, 2 at 10 %. */
const LEVELS = [
  { level: 1, name: "warning", share: 0.2 },
  { level: 2, name: "critical", share: 0.1 },
] as const;

/**
 * Metered usage for one tenant or one user, named with the tenant prefix. The AI quota
 * (`reserve`, `lease`, `settle`, `status`) holds units before a call and charges what it used
 * after; every method is one synchronous storage transaction on a single thread, so no
 * interleaving of callers can grant more than the limit. `consume`/`peek` are the first,
 * simpler counters (fixed UTC periods), kept for what uses them.
 */
export class Quota extends DurableObject<Env> {
  private readonly outbox: DurableOutbox;
  /**
   * After a refusal while leases held units, no new lease is carved until those have ended and
   * the refused calls had their one retry: units coming back then go to the calls that waited
   * for them, not into new leases (which would refuse them again while unused units sit in
   * leases). In memory: an evicted object just carves again.
   */
  private noLeaseUntil = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    configureTelemetry(env);
    this.outbox = new DurableOutbox(
      ctx,
      env,
      () => {
        const f = readFacts(ctx.storage.sql);
        if (!f.tenant_id) return null;
        const who = f.scope === "pool" ? "ai-pool" : `ai/${f.user_id ?? ""}`;
        return { tenantId: f.tenant_id, source: `/tenants/${f.tenant_id}/quota/${who}` };
      },
      alarmBy(ctx.storage),
    );
    ctx.blockConcurrencyWhile(async () => {
      migrateStorage(ctx.storage, migrations);
    });
  }

  /** Holds `units` (or, `partial`, what is free of them) for one call until it settles or its ttl passes. */
  reserve(req: ReserveRequest): ReserveResult {
    const now = req.now ?? Date.now();
    const sql = this.ctx.storage.sql;
    const out = this.ctx.storage.transactionSync((): ReserveResult => {
      const st = this.begin(req, now);
      if (!st) return { kind: "stale" };
      const units = Math.max(0, Math.floor(req.units));
      const held = units <= st.free ? units : req.partial ? st.free : 0;
      if (held > 0) {
        insertHold(
          sql,
          {
            id: req.id,
            kind: "call",
            units: held,
            periodStart: st.period.start,
            feature: req.feature,
            expiresAt: now + req.ttlMs,
          },
          now,
        );
      }
      const after = { ...st, reserved: st.reserved + held, free: st.free - held };
      const refused = held < units && !req.partial;
      const until = refused || (held < units && st.free === 0) ? leasedUntil(sql, st.period.start) : null;
      if (until !== null) this.noLeaseUntil = Math.max(this.noLeaseUntil, until + LEASE_PAUSE_MS);
      return { kind: "held", ...after, held, short: units - held, leasedUntil: until };
    });
    this.schedule();
    return out;
  }

  /**
   * A lease: units an isolate may grant by itself until `expiresAt`, counted here in full as a
   * hold, so however many isolates hold leases the sum granted never passes the limit. None is
   * carved when what is free is small (every call is then exact here).
   */
  lease(req: LeaseRequest): LeaseResult {
    const now = req.now ?? Date.now();
    const sql = this.ctx.storage.sql;
    const out = this.ctx.storage.transactionSync((): LeaseResult => {
      const st = this.begin(req, now);
      if (!st) return { kind: "stale" };
      const units = Math.min(req.maxUnits, Math.floor(st.free / 16));
      if (units < Math.max(1, req.minUnits) || now < this.noLeaseUntil) return { kind: "none", free: st.free };
      const expiresAt = Math.min(now + req.ttlMs, st.period.end);
      const id = `l_${newId(now)}`;
      insertHold(sql, { id, kind: "lease", units, periodStart: st.period.start, feature: "lease", expiresAt }, now);
      return { kind: "lease", id, units, expiresAt, periodStart: st.period.start, periodEnd: st.period.end };
    });
    this.schedule();
    return out;
  }

  /**
   * Ends a hold: `used` is charged to its period and the rest given back. A lease already
   * charged in full at its expiry gives back what it did not use; a hold that is gone (its call
   * outlived its ttl) charges nothing and answers the units as unbilled.
   */
  settle(req: SettleRequest): SettleResult {
    const now = req.now ?? Date.now();
    const sql = this.ctx.storage.sql;
    const out = this.ctx.storage.transactionSync((): SettleResult => {
      expireHolds(sql, now);
      if (req.packs !== undefined) writeFacts(sql, { packs: req.packs });
      const used = Math.max(0, Math.floor(req.used));
      const hold = findHold(sql, req.id);
      if (!hold) return { charged: 0, returned: 0, unbilled: used };
      const charged = Math.min(used, hold.units);
      sql.exec("DELETE FROM holds WHERE id = ?", hold.id);
      if (hold.kind === "charged") chargePeriod(sql, hold.period_start, charged - hold.units);
      else chargePeriod(sql, hold.period_start, charged);
      this.warn(hold.period_start, now);
      return { charged, returned: hold.units - charged, unbilled: used - charged };
    });
    this.schedule();
    return out;
  }

  /**
   * Gives back units a settled lease charged for calls that gave them back after it settled
   * (they were counted as granted, then not used). Only lowers `used`, never below 0: it can
   * free units, never grant any.
   */
  refund(req: RefundRequest): void {
    const units = Math.max(0, Math.floor(req.units));
    if (units > 0)
      this.ctx.storage.sql.exec("UPDATE periods SET used = max(0, used - ?) WHERE start = ?", units, req.periodStart);
  }

  /** The period's numbers without holding anything (leases counted in `reserved`). */
  status(req: QuotaCall): StatusResult {
    const now = req.now ?? Date.now();
    const out = this.ctx.storage.transactionSync((): StatusResult => {
      const st = this.begin(req, now);
      return st ? { kind: "status", ...st } : { kind: "stale" };
    });
    this.schedule();
    return out;
  }

  /** Expired holds go back (calls) or are charged (leases); unpublished warnings go out. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      expireHolds(sql, now);
      const period = sql
        .exec<{ start: number }>("SELECT start FROM periods WHERE start <= ? AND end > ?", now, now)
        .toArray()[0];
      if (period) this.warn(period.start, now);
    });
    await this.outbox.publish();
    this.schedule();
  }

  /**
   * The common start of every quota method: identity and facts stored, expired holds dealt with,
   * the current period found. Null when the bonus facts are stale (the Worker sends fresh ones).
   */
  private begin(req: QuotaCall, now: number): QuotaState | null {
    const sql = this.ctx.storage.sql;
    let facts = readFacts(sql);
    if (facts.tenant_id !== req.owner.tenantId || facts.scope !== req.owner.scope) {
      sql.exec(
        "UPDATE facts SET tenant_id = ?, scope = ?, user_id = ? WHERE id = 1",
        req.owner.tenantId,
        req.owner.scope,
        req.owner.userId ?? null,
      );
    }
    if (req.facts) writeFacts(sql, req.facts);
    facts = readFacts(sql);
    if (req.owner.scope === "user" && now >= facts.valid_until) return null;
    expireHolds(sql, now);
    return stateOf(sql, req.cfg, currentPeriod(sql, req.cfg, now), facts);
  }

  /**
   * Sends `ai.quota.warning` when what is left (of the period and the packs) crosses 20 % and
   * 10 % of the whole: once per level per period, in the transaction that crossed it.
   */
  private warn(periodStart: number, now: number): void {
    const sql = this.ctx.storage.sql;
    const p = sql
      .exec<{ start: number; end: number; used: number; lim: number }>(
        "SELECT * FROM periods WHERE start = ?",
        periodStart,
      )
      .toArray()[0];
    if (!p) return;
    const limit = p.lim;
    const facts = readFacts(sql);
    const total = limit + facts.packs;
    if (total <= 0) return;
    const remaining = Math.max(0, limit - p.used) + facts.packs;
    for (const l of LEVELS) {
      if (remaining > total * l.share || !markWarned(sql, periodStart, l.level)) continue;
      this.outbox.record(
        {
          type: "ai.quota.warning",
          subject: facts.scope === "pool" ? undefined : (facts.user_id ?? undefined),
          data: {
            scope: facts.scope,
            level: l.name,
            ...(facts.scope === "pool" ? {} : { userId: facts.user_id }),
            period: { start: new Date(p.start).toISOString(), end: new Date(p.end).toISOString() },
            remaining,
            limit,
          },
        },
        now,
      );
      metrics.add("canopy_ai_quota_warnings_total", {}, 1, facts.tenant_id ?? "");
      flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p));
    }
  }

  /** The alarm at the earliest hold expiry (the outbox sets its own when it needs one). */
  private schedule(): void {
    const at = nextExpiry(this.ctx.storage.sql);
    if (at !== null) this.ctx.waitUntil(alarmBy(this.ctx.storage)(at));
  }

  /** Spends `amount` of `metric` in the period of `periodMs` containing `now`, if it stays within `limit`. */
  consume(metric: string, amount: number, limit: number, periodMs: number, now = Date.now()): QuotaResult {
    const period = Math.floor(now / periodMs) * periodMs;
    const sql = this.ctx.storage.sql;
    const used =
      sql.exec<{ used: number }>("SELECT used FROM usage WHERE metric = ? AND period = ?", metric, period).toArray()[0]
        ?.used ?? 0;
    const resetsAt = period + periodMs;
    if (amount < 0 || used + amount > limit) return { allowed: false, used, limit, resetsAt };
    sql.exec(
      "INSERT INTO usage (metric, period, used) VALUES (?, ?, ?) ON CONFLICT (metric, period) DO UPDATE SET used = excluded.used",
      metric,
      period,
      used + amount,
    );
    // Old periods are history nobody reads: keep the table small.
    sql.exec("DELETE FROM usage WHERE metric = ? AND period < ?", metric, period - 31 * 24 * 3600 * 1000);
    return { allowed: true, used: used + amount, limit, resetsAt };
  }

  /** Current usage without spending. */
  peek(metric: string, periodMs: number, now = Date.now()): number {
    const period = Math.floor(now / periodMs) * periodMs;
    return (
      this.ctx.storage.sql
        .exec<{ used: number }>("SELECT used FROM usage WHERE metric = ? AND period = ?", metric, period)
        .toArray()[0]?.used ?? 0
    );
  }
}
