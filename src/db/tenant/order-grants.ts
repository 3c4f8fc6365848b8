import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";

/**
 * Countable grants of orders (migrations/tenant/0023): AI quota units and virtual currency. The
 * AI service reads and consumes quota units through here; refunds take back what is unused.
 */

/** The query of an order's virtual-currency grants with the user's balance in each now. */
export function orderGrantBalancesQuery(db: TenantDb, orderId: string) {
  return db.all<{ currency: string; quantity: number; balance: number }>(sql`
    SELECT g.target AS currency, g.quantity AS quantity, coalesce(a.balance, 0) AS balance
    FROM order_grants g LEFT JOIN ledger_accounts a ON a.id = 'u:' || g.user_id || ':' || g.target
    WHERE g.order_id = ${orderId} AND g.kind = 'currency'`);
}

/** A user's AI quota units bought and not yet used or taken back. */
export async function quotaUnitsLeft(db: TenantDb, userId: string): Promise<number> {
  const [row] = await db.all<{ left: number | null }>(sql`
    SELECT sum(quantity - used - revoked) AS left FROM order_grants WHERE user_id = ${userId} AND kind = 'ai_quota'`);
  return row?.left ?? 0;
}
