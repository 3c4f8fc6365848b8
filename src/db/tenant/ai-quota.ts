import { sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";

/**
 * AI quota packs and grants (migrations/tenant/0026, docs/ai.md): units bought (`order_grants`
 * of kind `ai_quota`) or granted by an admin (`ai_grants`), spent oldest first once the period
 * allowance is gone. Taking units raises the grant's `used` in the same batch that records the
 * call's hold, and the tables' CHECK (`used + revoked <= quantity`) is the gate: a batch that
 * would take more than is left fails as a whole.
 */

export type PackSource = "order" | "grant";

export interface PackGrant {
  source: PackSource;
  id: string;
  left: number;
  createdAt: number;
}

/** The live packs of a user, oldest first; `since` keeps only those created from then (packs that expire at reset). */
export function packGrantsQuery(db: TenantDb, userId: string, since = 0) {
  return db.all<PackGrant>(sql`
    SELECT 'order' AS source, order_id AS id, quantity - used - revoked AS "left", created_at AS createdAt
      FROM order_grants WHERE user_id = ${userId} AND kind = 'ai_quota' AND quantity - used - revoked > 0
        AND created_at >= ${since}
    UNION ALL
    SELECT 'grant', id, quantity - used - revoked, created_at
      FROM ai_grants WHERE user_id = ${userId} AND quantity - used - revoked > 0 AND created_at >= ${since}
    ORDER BY createdAt, id`);
}

export const packsLeft = (grants: PackGrant[]): number => grants.reduce((n, g) => n + g.left, 0);

/** Which grants cover `units`, oldest first; null when all of them together cannot. */
export function planPacks(grants: PackGrant[], units: number): { grant: PackGrant; units: number }[] | null {
  const plan: { grant: PackGrant; units: number }[] = [];
  let need = units;
  for (const g of grants) {
    if (need <= 0) break;
    const take = Math.min(need, g.left);
    plan.push({ grant: g, units: take });
    need -= take;
  }
  return need > 0 ? null : plan;
}

const grantWhere = (source: PackSource, id: string): SQL =>
  source === "order" ? sql`order_id = ${id} AND kind = 'ai_quota' AND target = ''` : sql`id = ${id}`;
const grantTable = (source: PackSource): SQL => (source === "order" ? sql`order_grants` : sql`ai_grants`);

/** The statements that take a plan's units and record them as the reservation's holds. */
export function takePackOps(
  db: TenantDb,
  reservationId: string,
  plan: { grant: PackGrant; units: number }[],
  expiresAt: number,
): BatchItem<"sqlite">[] {
  return plan.flatMap(({ grant, units }) => [
    db.run(
      sql`UPDATE ${grantTable(grant.source)} SET used = used + ${units} WHERE ${grantWhere(grant.source, grant.id)}`,
    ),
    db.run(sql`INSERT INTO ai_pack_holds (reservation_id, source, grant_id, units, expires_at)
      VALUES (${reservationId}, ${grant.source}, ${grant.id}, ${units}, ${expiresAt})`),
  ]);
}

export interface PackHold {
  source: PackSource;
  grantId: string;
  units: number;
  createdAt: number;
}

/** A reservation's pack holds, newest grant first (the order units are given back in). */
export function packHoldsQuery(db: TenantDb, reservationId: string) {
  return db.all<PackHold>(sql`
    SELECT h.source AS source, h.grant_id AS grantId, h.units AS units,
      coalesce(o.created_at, g.created_at, 0) AS createdAt
    FROM ai_pack_holds h
      LEFT JOIN order_grants o ON h.source = 'order' AND o.order_id = h.grant_id AND o.kind = 'ai_quota' AND o.target = ''
      LEFT JOIN ai_grants g ON h.source = 'grant' AND g.id = h.grant_id
    WHERE h.reservation_id = ${reservationId}
    ORDER BY createdAt DESC, h.grant_id DESC`);
}

/**
 * Ends one pack hold, giving back `returned` of its units. The hold row's delete guards the give
 * back (`changes() = 1`), so a hold the sweep already returned is never returned twice; units
 * given back to a refunded order go to `revoked`, so a refunded pack never shows units again.
 */
export function endPackHoldOps(
  db: TenantDb,
  reservationId: string,
  h: { source: PackSource; grantId: string },
  returned: number,
): BatchItem<"sqlite">[] {
  const del = db.run(sql`DELETE FROM ai_pack_holds
    WHERE reservation_id = ${reservationId} AND source = ${h.source} AND grant_id = ${h.grantId}`);
  if (returned <= 0) return [del];
  const revoke =
    h.source === "order"
      ? sql`CASE WHEN EXISTS (SELECT 1 FROM orders WHERE id = ${h.grantId} AND status = 'refunded')
          THEN revoked + ${returned} ELSE revoked END`
      : sql`revoked`;
  return [
    del,
    db.run(sql`UPDATE ${grantTable(h.source)} SET used = used - ${returned}, revoked = ${revoke}
      WHERE ${grantWhere(h.source, h.grantId)} AND changes() = 1`),
  ];
}

/** Pack holds whose call never settled: each returned in full, once (returns how many). */
export async function sweepPackHolds(db: TenantDb, now: number, limit = 200): Promise<number> {
  const rows = await db.all<{ reservationId: string; source: PackSource; grantId: string; units: number }>(sql`
    SELECT reservation_id AS reservationId, source, grant_id AS grantId, units FROM ai_pack_holds
    WHERE expires_at <= ${now} ORDER BY expires_at LIMIT ${limit}`);
  for (const r of rows) {
    const ops = endPackHoldOps(db, r.reservationId, r, r.units);
    await db.batch(ops as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  }
  return rows.length;
}

/** A user's VIP level now and the next instant it can change (a period starting or ending). */
export async function vipFacts(
  db: TenantDb,
  userId: string,
  now: number,
): Promise<{ level: number; until: number | null }> {
  const [row] = await db.all<{ level: number; until: number | null }>(sql`
    SELECT coalesce(max(CASE WHEN starts_at <= ${now} THEN level END), 0) AS level,
      min(CASE WHEN starts_at > ${now} THEN starts_at ELSE ends_at END) AS until
    FROM vip_periods WHERE user_id = ${userId} AND revoked_at IS NULL AND ends_at > ${now}`);
  return { level: row?.level ?? 0, until: row?.until ?? null };
}

export interface GrantRecord {
  id: string;
  source: PackSource;
  userId: string;
  units: number;
  used: number;
  revoked: number;
  reason: string | null;
  grantedBy: string | null;
  orderId: string | null;
  createdAt: number;
}

/** Inserts an admin grant (a record: never updated but for its use, never deleted). */
export function insertGrantOp(
  db: TenantDb,
  g: { id: string; userId: string; units: number; reason: string; grantedBy: string; now: number },
) {
  return db.run(sql`INSERT INTO ai_grants (id, user_id, quantity, reason, granted_by, created_at)
    VALUES (${g.id}, ${g.userId}, ${g.units}, ${g.reason}, ${g.grantedBy}, ${g.now})`);
}

/** Every recharge of a user, newest first: admin grants and paid packs. */
export function grantRecordsQuery(db: TenantDb, userId: string, limit: number, before?: [number, string]) {
  const after = before
    ? sql`AND (createdAt < ${before[0]} OR (createdAt = ${before[0]} AND id < ${before[1]}))`
    : sql``;
  return db.all<GrantRecord>(sql`SELECT * FROM (
      SELECT id, 'grant' AS source, user_id AS userId, quantity AS units, used, revoked, reason, granted_by AS grantedBy,
        NULL AS orderId, created_at AS createdAt FROM ai_grants WHERE user_id = ${userId}
      UNION ALL
      SELECT 'order:' || order_id, 'order', user_id, quantity, used, revoked, NULL, NULL, order_id, created_at
        FROM order_grants WHERE user_id = ${userId} AND kind = 'ai_quota'
    ) WHERE 1 ${after} ORDER BY createdAt DESC, id DESC LIMIT ${limit}`);
}
