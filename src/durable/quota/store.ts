import { periodAt } from "../../lib/periods";
import type { QuotaCfg, QuotaFacts, QuotaState } from "../protocol/quota";

/**
 * The AI quota's storage (docs/ai.md, Quotas): one row per period with what it used and which
 * warnings it sent, the holds of running calls and open leases, and the facts the Worker pushes.
 * Every function here is synchronous SQL, so a method that calls several of them is one storage
 * transaction and the object's single thread makes it atomic. The invariant every method keeps:
 * `used + Σ holds ≤ limit` for the current period.
 */
export const QUOTA_V2_SQL = [
  // `lim`: the limit (units and bonus) the period last ran under, for warnings of a settle.
  `CREATE TABLE periods (start INTEGER PRIMARY KEY, end INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0,
    warned INTEGER NOT NULL DEFAULT 0, lim INTEGER NOT NULL DEFAULT 0)`,
  // kind 'call': returned when it expires unsettled; 'lease': charged in full when it expires
  // (then kept as 'charged' for a late settle to give back what it did not use).
  `CREATE TABLE holds (id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('call', 'lease', 'charged')),
    units INTEGER NOT NULL, period_start INTEGER NOT NULL, feature TEXT NOT NULL, expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL)`,
  "CREATE INDEX holds_expiry ON holds (expires_at)",
  `CREATE TABLE facts (id INTEGER PRIMARY KEY CHECK (id = 1), tenant_id TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL DEFAULT 'user', user_id TEXT, bonus_percent INTEGER NOT NULL DEFAULT 0,
    valid_until INTEGER NOT NULL DEFAULT 0, packs INTEGER NOT NULL DEFAULT 0)`,
  "INSERT INTO facts (id) VALUES (1)",
];

/** How long a charged lease is kept for a late settle, and old periods for status reads. */
const CHARGED_KEEP_MS = 10 * 60_000;
const PERIOD_KEEP_MS = 40 * 86_400_000;

export interface FactsRow extends Record<string, SqlStorageValue> {
  tenant_id: string;
  scope: string;
  user_id: string | null;
  bonus_percent: number;
  valid_until: number;
  packs: number;
}

interface PeriodRow extends Record<string, SqlStorageValue> {
  start: number;
  end: number;
  used: number;
  warned: number;
  lim: number;
}

export interface HoldRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: "call" | "lease" | "charged";
  units: number;
  period_start: number;
  feature: string;
  expires_at: number;
}

export const readFacts = (sql: SqlStorage): FactsRow => sql.exec<FactsRow>("SELECT * FROM facts WHERE id = 1").one();

/** Stores what the Worker told the object (only the parts it sent). */
export function writeFacts(sql: SqlStorage, f: QuotaFacts): void {
  if (f.bonusPercent !== undefined)
    sql.exec("UPDATE facts SET bonus_percent = ?, valid_until = ? WHERE id = 1", f.bonusPercent, f.validUntil ?? 0);
  if (f.packs !== undefined) sql.exec("UPDATE facts SET packs = ? WHERE id = 1", Math.max(0, f.packs));
}

/**
 * Expired holds: a call's units go back (its call crashed or never settled); a lease is charged
 * in full (an isolate may have granted all of it) and kept a while as 'charged' so a late settle
 * can give back the rest. Charged rows past their keep time and old periods are deleted.
 */
export function expireHolds(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM holds WHERE kind = 'call' AND expires_at <= ?", now);
  const leases = sql.exec<HoldRow>("SELECT * FROM holds WHERE kind = 'lease' AND expires_at <= ?", now).toArray();
  for (const l of leases) {
    sql.exec("UPDATE periods SET used = used + ? WHERE start = ?", l.units, l.period_start);
    sql.exec("UPDATE holds SET kind = 'charged', expires_at = ? WHERE id = ?", now + CHARGED_KEEP_MS, l.id);
  }
  sql.exec("DELETE FROM holds WHERE kind = 'charged' AND expires_at <= ?", now);
  sql.exec("DELETE FROM periods WHERE end < ?", now - PERIOD_KEEP_MS);
}

/**
 * The period containing `now` under `cfg`, created on first use. When the config's period or
 * zone changed and a stored period still overlaps `now`, its use and sent warnings carry into
 * the new one (and its holds move with them): a config change never refills a quota.
 */
export function currentPeriod(sql: SqlStorage, cfg: QuotaCfg, now: number): PeriodRow {
  const p = periodAt(cfg.period, cfg.timeZone, now);
  const row = sql.exec<PeriodRow>("SELECT * FROM periods WHERE start = ?", p.start).toArray()[0];
  if (row && row.end === p.end) return row;
  const overlapping = sql
    .exec<PeriodRow>("SELECT * FROM periods WHERE start <= ? AND end > ? ORDER BY start DESC LIMIT 1", now, now)
    .toArray()[0];
  const used = overlapping?.used ?? 0;
  const warned = overlapping?.warned ?? 0;
  const lim = overlapping?.lim ?? 0;
  if (overlapping) {
    sql.exec("UPDATE holds SET period_start = ? WHERE period_start = ?", p.start, overlapping.start);
    if (overlapping.start === p.start) sql.exec("DELETE FROM periods WHERE start = ?", p.start);
    else sql.exec("UPDATE periods SET end = ? WHERE start = ?", Math.min(overlapping.end, p.start), overlapping.start);
  }
  sql.exec(
    "INSERT INTO periods (start, end, used, warned, lim) VALUES (?, ?, ?, ?, ?)",
    p.start,
    p.end,
    used,
    warned,
    lim,
  );
  return { start: p.start, end: p.end, used, warned, lim };
}

/** The period's numbers: limit with the bonus, what is used, held and free. */
export function stateOf(sql: SqlStorage, cfg: QuotaCfg, period: PeriodRow, facts: FactsRow): QuotaState {
  const bonus = Math.floor((cfg.units * facts.bonus_percent) / 100);
  const limit = cfg.units + bonus;
  if (period.lim !== limit) {
    sql.exec("UPDATE periods SET lim = ? WHERE start = ?", limit, period.start);
    period.lim = limit;
  }
  const reserved =
    sql
      .exec<{ n: number | null }>(
        "SELECT sum(units) AS n FROM holds WHERE period_start = ? AND kind IN ('call', 'lease')",
        period.start,
      )
      .one().n ?? 0;
  return {
    period: { start: period.start, end: period.end },
    limit,
    bonus,
    used: period.used,
    reserved,
    free: Math.max(0, limit - period.used - reserved),
    packs: facts.packs,
  };
}

export function insertHold(
  sql: SqlStorage,
  h: { id: string; kind: "call" | "lease"; units: number; periodStart: number; feature: string; expiresAt: number },
  now: number,
): void {
  sql.exec(
    "INSERT INTO holds (id, kind, units, period_start, feature, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    h.id,
    h.kind,
    h.units,
    h.periodStart,
    h.feature,
    h.expiresAt,
    now,
  );
}

export const findHold = (sql: SqlStorage, id: string): HoldRow | undefined =>
  sql.exec<HoldRow>("SELECT * FROM holds WHERE id = ?", id).toArray()[0];

/** When the last open lease of the period ends (the instant its units are free again), if any. */
export function leasedUntil(sql: SqlStorage, periodStart: number): number | null {
  return (
    sql
      .exec<{ t: number | null }>(
        "SELECT max(expires_at) AS t FROM holds WHERE period_start = ? AND kind = 'lease'",
        periodStart,
      )
      .one().t ?? null
  );
}

/** The earliest instant a hold expires or a charged lease is forgotten (the alarm's next time). */
export const nextExpiry = (sql: SqlStorage): number | null =>
  sql.exec<{ t: number | null }>("SELECT min(expires_at) AS t FROM holds").one().t ?? null;

/** Records a warning level as sent for the period; false when it (or a higher one) already was. */
export function markWarned(sql: SqlStorage, periodStart: number, level: number): boolean {
  const row = sql.exec<{ warned: number }>("SELECT warned FROM periods WHERE start = ?", periodStart).toArray()[0];
  if (!row || row.warned >= level) return false;
  sql.exec("UPDATE periods SET warned = ? WHERE start = ?", level, periodStart);
  return true;
}

export function chargePeriod(sql: SqlStorage, periodStart: number, units: number): void {
  if (units !== 0) sql.exec("UPDATE periods SET used = max(0, used + ?) WHERE start = ?", units, periodStart);
}
