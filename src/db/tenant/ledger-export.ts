import { sql } from "drizzle-orm";
import type { TenantDb } from "../client";

/** One ledger entry as the CSV export writes it. */
export interface ExportEntry {
  seq: number;
  id: string;
  transactionId: string;
  createdAt: number;
  kind: string;
  account: string;
  userId: string | null;
  currency: string;
  amount: number;
  balanceAfter: number;
  orderId: string | null;
}

/** Where a page of the export resumes: after this (created_at, seq). */
export interface ExportCursor {
  createdAt: number;
  seq: number;
}

/**
 * One keyset page of the entries created in [from, to) (ms), in (created_at, seq) order, after
 * `after` when given. The `ledger_entries_time (created_at, seq)` index serves both the window and
 * the row-value comparison, so every page is an index range scan however deep the export is.
 */
export async function ledgerExportPage(
  db: TenantDb,
  q: { from: number; to: number; after?: ExportCursor | undefined; limit: number },
): Promise<ExportEntry[]> {
  return db.all<ExportEntry>(sql`
    SELECT seq, id, transaction_id AS transactionId, created_at AS createdAt, kind, account_id AS account,
      user_id AS userId, currency, amount, balance_after AS balanceAfter, order_id AS orderId
    FROM ledger_entries
    WHERE created_at >= ${q.from} AND created_at < ${q.to}
      ${q.after ? sql`AND (created_at, seq) > (${q.after.createdAt}, ${q.after.seq})` : sql``}
    ORDER BY created_at, seq LIMIT ${q.limit}`);
}
