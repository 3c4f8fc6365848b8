import { type SQL, type SQLWrapper, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";
import { type DomainEvent, outboxInsertIf } from "./outbox";

/**
 * VIP schedules (migrations/tenant/0024, docs/commerce.md). The level is a function of the
 * periods and the time, read at request time by everyone who needs it (orders, posts, uploads,
 * profiles): nothing trusts a stored level. Changes to a schedule apply only at the version they
 * were planned from.
 */

/** A live period row as the planner takes it (amounts as bigint). */
export interface PeriodRow {
  id: string;
  level: number;
  startsAt: number;
  endsAt: number;
  valueAmount: bigint;
  valueCurrency: string | null;
  source: "order" | "conversion" | "admin";
  orderId: string | null;
  /** When the row was written (the `now` of the change that wrote it). */
  createdAt: number;
}

/** A member's bookkeeping row (null version: no row yet). */
export interface MemberRow {
  version: number;
  announcedLevel: number;
  announcedExpiresAt: number | null;
}

/** The query of a user's periods not yet over at `now` and not revoked. */
export function livePeriodsQuery(db: TenantDb, userId: string, now: number) {
  return db.all<Omit<PeriodRow, "valueAmount"> & { valueAmount: number }>(sql`
    SELECT id, level, starts_at AS startsAt, ends_at AS endsAt, value_amount AS valueAmount,
      value_currency AS valueCurrency, source, order_id AS orderId, created_at AS createdAt
    FROM vip_periods WHERE user_id = ${userId} AND revoked_at IS NULL AND ends_at > ${now}
    ORDER BY starts_at, id`);
}

/** Rows of {@link livePeriodsQuery} with amounts as bigint. */
export const toPeriods = (rows: (Omit<PeriodRow, "valueAmount"> & { valueAmount: number })[]): PeriodRow[] =>
  rows.map((r) => ({ ...r, valueAmount: BigInt(r.valueAmount) }));

/** The query of a user's member row. */
export function memberQuery(db: TenantDb, userId: string) {
  return db.all<MemberRow>(sql`SELECT version, announced_level AS announcedLevel,
    announced_expires_at AS announcedExpiresAt FROM vip_members WHERE user_id = ${userId}`);
}

/** A user's live periods and member row, in one round trip. */
export async function vipStateOf(db: TenantDb, userId: string, now: number) {
  const [periods, member] = await db.batch([livePeriodsQuery(db, userId, now), memberQuery(db, userId)]);
  return { periods: toPeriods(periods), member: member[0] ?? null };
}

/** SQL true while the user's schedule is still at the version read (no row read: still no row). */
export function versionGuard(userId: string, member: MemberRow | null): SQL {
  return member
    ? sql`EXISTS (SELECT 1 FROM vip_members WHERE user_id = ${userId} AND version = ${member.version})`
    : sql`NOT EXISTS (SELECT 1 FROM vip_members WHERE user_id = ${userId})`;
}

/** What a change of a schedule writes besides its periods. */
export interface ScheduleChange {
  add: Omit<PeriodRow, "createdAt">[];
  revoke: string[];
  /** The member's state after it: what to announce, when the sweep should look again. */
  announce: { level: number; expiresAt: number | null; nextCheckAt: number | null };
  /** vip.changed, when the level or its end changed. */
  event: DomainEvent | null;
}

/**
 * The statements applying a planned change where `gate` holds: revoke and add periods, move the
 * member's version (so a plan made from the old schedule no longer applies), record what was
 * announced, and the event.
 */
export function applyScheduleOps(
  db: TenantDb,
  userId: string,
  change: ScheduleChange,
  gate: SQL,
  now: number,
): BatchItem<"sqlite">[] {
  const ops: BatchItem<"sqlite">[] = [];
  if (change.revoke.length) {
    ops.push(
      db.run(sql`UPDATE vip_periods SET revoked_at = ${now}
        WHERE id IN (${sql.join(
          change.revoke.map((id) => sql`${id}`),
          sql`, `,
        )}) AND user_id = ${userId} AND revoked_at IS NULL AND ${gate}`),
    );
  }
  for (const p of change.add) {
    ops.push(
      db.run(sql`INSERT INTO vip_periods (id, user_id, level, starts_at, ends_at, value_amount, value_currency, source,
          order_id, created_at)
        SELECT ${p.id}, ${userId}, ${p.level}, ${p.startsAt}, ${p.endsAt}, ${p.valueAmount}, ${p.valueCurrency},
          ${p.source}, ${p.orderId}, ${now} WHERE ${gate}`),
    );
  }
  const a = change.announce;
  ops.push(
    db.run(sql`INSERT INTO vip_members (user_id, version, announced_level, announced_expires_at, next_check_at)
      SELECT ${userId}, 1, ${a.level}, ${a.expiresAt}, ${a.nextCheckAt} WHERE ${gate}
      ON CONFLICT (user_id) DO UPDATE SET version = vip_members.version + 1, announced_level = excluded.announced_level,
        announced_expires_at = excluded.announced_expires_at, next_check_at = excluded.next_check_at`),
  );
  if (change.event) ops.push(outboxInsertIf(db, change.event, gate, now));
  return ops;
}

/** Members the sweep should look at now (a boundary passed, or an expiry notice is due). */
export async function dueMembers(db: TenantDb, now: number, limit: number): Promise<string[]> {
  const rows = await db.all<{ user_id: string }>(sql`SELECT user_id FROM vip_members
    WHERE next_check_at IS NOT NULL AND next_check_at <= ${now} ORDER BY next_check_at LIMIT ${limit}`);
  return rows.map((r) => r.user_id);
}

/**
 * The sweep's update of one member, in one batch: announce a changed level (only if what was
 * announced is still what it read, so a purchase in between wins), send the expiry notice once
 * per expiry instant, and set when to look again.
 */
export async function sweepMemberOps(
  db: TenantDb,
  userId: string,
  read: MemberRow,
  next: { level: number; expiresAt: number | null; nextCheckAt: number | null },
  events: { changed: DomainEvent | null; expiring: { expiresAt: number; event: DomainEvent } | null },
  now: number,
): Promise<{ changed: boolean; expiring: boolean }> {
  const ops: BatchItem<"sqlite">[] = [];
  const same = sql`announced_level = ${read.announcedLevel} AND announced_expires_at IS ${read.announcedExpiresAt}`;
  let changedAt = -1;
  if (events.changed) {
    changedAt = ops.length;
    ops.push(
      db.run(sql`UPDATE vip_members SET announced_level = ${next.level}, announced_expires_at = ${next.expiresAt}
        WHERE user_id = ${userId} AND ${same}`),
      outboxInsertIf(db, events.changed, sql`changes() = 1`, now),
    );
  }
  let expiringAt = -1;
  if (events.expiring) {
    expiringAt = ops.length;
    ops.push(
      db.run(sql`INSERT INTO vip_notices (user_id, kind, expires_at, created_at)
        VALUES (${userId}, 'expiring', ${events.expiring.expiresAt}, ${now}) ON CONFLICT DO NOTHING`),
      outboxInsertIf(db, events.expiring.event, sql`changes() = 1`, now),
    );
  }
  ops.push(db.run(sql`UPDATE vip_members SET next_check_at = ${next.nextCheckAt} WHERE user_id = ${userId}`));
  const res = (await db.batch(ops as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as { rowsAffected: number }[];
  return {
    changed: changedAt >= 0 && res[changedAt]!.rowsAffected === 1,
    expiring: expiringAt >= 0 && res[expiringAt]!.rowsAffected === 1,
  };
}

/** Whether the user has sent an expiry notice for this expiry instant. */
export async function noticeSent(db: TenantDb, userId: string, expiresAt: number): Promise<boolean> {
  const rows = await db.all(sql`SELECT 1 FROM vip_notices WHERE user_id = ${userId} AND kind = 'expiring'
    AND expires_at = ${expiresAt}`);
  return rows.length > 0;
}

/**
 * A user's VIP level at `now` as an SQL expression: the highest running period's (0 when none).
 * `userId` may be a column of an outer query, `now` a placeholder.
 */
export function liveVipLevel(userId: SQLWrapper | string, now: SQLWrapper | number): SQL<number> {
  return sql<number>`(SELECT coalesce(max(level), 0) FROM vip_periods
    WHERE user_id = ${userId} AND revoked_at IS NULL AND starts_at <= ${now} AND ends_at > ${now})`;
}

/** The query of a user's VIP level at `now` (see {@link liveVipLevel}). */
export function vipLevelQuery(db: TenantDb, userId: string, now: number) {
  return db.all<{ level: number }>(sql`SELECT ${liveVipLevel(userId, now)} AS level`);
}

/** The query of a user's live content unlocks among posts and tags. */
export function unlocksQuery(db: TenantDb, userId: string, postIds: string[], tags: string[]) {
  const list = (values: string[]) =>
    values.length
      ? sql.join(
          values.map((v) => sql`${v}`),
          sql`, `,
        )
      : sql`NULL`;
  return db.all<{ target_type: "post" | "tag"; target: string }>(sql`SELECT target_type, target FROM content_unlocks
    WHERE user_id = ${userId} AND revoked_at IS NULL
      AND ((target_type = 'post' AND target IN (${list(postIds)})) OR (target_type = 'tag' AND target IN (${list(tags)})))`);
}
