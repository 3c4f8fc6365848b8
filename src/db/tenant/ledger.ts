import { type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { newId } from "../../lib/ids";
import type { TenantDb } from "../client";

/**
 * The double-entry ledger (migrations/tenant/0021, docs/commerce.md). A posting is one journal
 * transaction written as statements for the caller's batch (one SQLite transaction), all guarded
 * by the caller's gate condition, so the money moves if and only if the batch's gate row says
 * so. The schema enforces the rest: no negative user balance, immutable entries, a header that
 * refuses an unbalanced or one-legged transaction.
 */

/** The per-tenant system accounts (one per currency). */
export const SYSTEM_ACCOUNTS = ["payments_clearing", "revenue", "refunds", "promotions"] as const;
export type SystemAccount = (typeof SYSTEM_ACCOUNTS)[number];

/** A user's wallet or a system account. */
export type AccountRef = { user: string } | { system: SystemAccount };

export type TransactionKind = "top_up" | "order" | "refund" | "grant" | "adjustment" | "clawback";

/** One leg: a signed amount on one account (positive credits it). */
export interface Leg {
  account: AccountRef;
  amount: bigint;
  currency: string;
}

/** A journal transaction to write; its legs must sum to zero per currency. */
export interface Posting {
  id: string;
  kind: TransactionKind;
  legs: Leg[];
  topUpId?: string | undefined;
  orderId?: string | undefined;
  reversesId?: string | undefined;
  memo?: string | undefined;
  /** Who caused it: a user id, `api_key:<id>`, or a provider name. */
  createdBy?: string | undefined;
}

/** Account ids are deterministic, so a posting never has to look one up. */
export function accountId(ref: AccountRef, currency: string): string {
  return "user" in ref ? `u:${ref.user}:${currency}` : `s:${ref.system}:${currency}`;
}

/** The SQL value of a user's balance in a currency (0 without a wallet), for gate conditions. */
export function balanceOf(userId: string, currency: string): SQL {
  return sql`coalesce((SELECT balance FROM ledger_accounts WHERE id = ${accountId({ user: userId }, currency)}), 0)`;
}

/**
 * The statements of one posting, in order: each account created if new, each leg's balance
 * change and entry (with the balance after it, exact because the batch is serialised), and last
 * the header, whose CHECKs abort the batch if the legs do not balance. Every statement runs
 * only where `gate` holds, so a batch whose gate row was not written moves nothing.
 */
export function postingOps(db: TenantDb, p: Posting, gate: SQL = sql`1`, now = Date.now()): BatchItem<"sqlite">[] {
  const ops: BatchItem<"sqlite">[] = [];
  for (const leg of p.legs) {
    const acct = accountId(leg.account, leg.currency);
    const [kind, owner, userId] =
      "user" in leg.account ? ["user", leg.account.user, leg.account.user] : ["system", leg.account.system, null];
    ops.push(
      db.run(sql`INSERT INTO ledger_accounts (id, kind, owner, currency, balance, created_at)
        SELECT ${acct}, ${kind}, ${owner}, ${leg.currency}, 0, ${now} WHERE ${gate}
        ON CONFLICT (id) DO NOTHING`),
      db.run(sql`UPDATE ledger_accounts SET balance = balance + ${leg.amount} WHERE id = ${acct} AND ${gate}`),
      db.run(sql`INSERT INTO ledger_entries
          (id, transaction_id, account_id, user_id, currency, amount, balance_after, kind, order_id, created_at)
        SELECT ${newId(now)}, ${p.id}, ${acct}, ${userId}, ${leg.currency}, ${leg.amount},
          (SELECT balance FROM ledger_accounts WHERE id = ${acct}), ${p.kind}, ${p.orderId ?? null}, ${now}
        WHERE ${gate}`),
    );
  }
  ops.push(
    db.run(sql`INSERT INTO ledger_transactions
        (id, kind, top_up_id, order_id, reverses_id, entry_count, unbalanced, memo, created_by, created_at)
      SELECT ${p.id}, ${p.kind}, ${p.topUpId ?? null}, ${p.orderId ?? null}, ${p.reversesId ?? null},
        (SELECT count(*) FROM ledger_entries WHERE transaction_id = ${p.id}),
        (SELECT count(*) FROM (SELECT currency FROM ledger_entries WHERE transaction_id = ${p.id}
          GROUP BY currency HAVING sum(amount) <> 0)),
        ${p.memo ?? null}, ${p.createdBy ?? null}, ${now}
      WHERE ${gate}`),
  );
  return ops;
}

/** A user's wallet balances, one per currency they ever held, by currency code. */
export async function walletBalances(db: TenantDb, userId: string): Promise<{ currency: string; available: number }[]> {
  return db.all<{ currency: string; available: number }>(sql`
    SELECT currency, balance AS available FROM ledger_accounts
    WHERE kind = 'user' AND owner = ${userId} ORDER BY currency`);
}

/** A user's entry as the wallet's history shows it. */
export interface WalletEntry {
  seq: number;
  id: string;
  transactionId: string;
  kind: string;
  amount: number;
  currency: string;
  balanceAfter: number;
  createdAt: number;
  orderId: string | null;
}

/** A page of a user's entries, newest first, below `beforeSeq` (one currency or all). */
export async function walletEntriesPage(
  db: TenantDb,
  userId: string,
  q: { currency?: string | undefined; limit: number; beforeSeq?: number | undefined },
): Promise<WalletEntry[]> {
  return db.all<WalletEntry>(sql`
    SELECT seq, id, transaction_id AS transactionId, kind, amount, currency, balance_after AS balanceAfter,
      created_at AS createdAt, order_id AS orderId
    FROM ledger_entries
    WHERE user_id = ${userId}
      ${q.currency ? sql`AND currency = ${q.currency}` : sql``}
      ${q.beforeSeq !== undefined ? sql`AND seq < ${q.beforeSeq}` : sql``}
    ORDER BY seq DESC LIMIT ${q.limit}`);
}

/** One currency's sums, as the reconciliation report shows them. */
export interface CurrencySums {
  currency: string;
  entriesSum: number;
  userBalances: number;
  systemAccounts: Record<SystemAccount, number>;
}

/** Something the ledger's invariants say cannot be: the report lists each. */
export interface Inconsistency {
  kind: string;
  id: string;
  detail: string;
}

/**
 * Checks over the whole ledger that each find rows breaking an invariant. Other services' tables
 * add theirs (a succeeded top-up without its credit, a paid order without its payment) through
 * {@link reconcile}'s `extra` argument.
 */
const LEDGER_CHECKS: { kind: string; query: SQL }[] = [
  {
    kind: "account_balance_mismatch",
    query: sql`SELECT a.id AS id, 'balance ' || a.balance || ' but entries sum to ' || coalesce(sum(e.amount), 0) AS detail
      FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id
      GROUP BY a.id HAVING a.balance <> coalesce(sum(e.amount), 0)`,
  },
  {
    kind: "negative_user_balance",
    query: sql`SELECT id, 'balance ' || balance AS detail FROM ledger_accounts WHERE kind = 'user' AND balance < 0`,
  },
  {
    kind: "unbalanced_transaction",
    query: sql`SELECT transaction_id || ':' || currency AS id, 'entries sum to ' || sum(amount) AS detail
      FROM ledger_entries GROUP BY transaction_id, currency HAVING sum(amount) <> 0`,
  },
  {
    kind: "entries_without_transaction",
    query: sql`SELECT DISTINCT e.transaction_id AS id, 'no transaction header' AS detail
      FROM ledger_entries e LEFT JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.id IS NULL`,
  },
  {
    kind: "transaction_entry_count",
    query: sql`SELECT t.id AS id, 'header says ' || t.entry_count || ' entries, found ' || count(e.seq) AS detail
      FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id
      GROUP BY t.id HAVING count(e.seq) <> t.entry_count`,
  },
];

/** At most this many rows of each inconsistency kind are reported. */
const MAX_FINDINGS = 100;

/**
 * The reconciliation report: per currency, the sum of all entries (0 when the ledger is whole),
 * the sum of user balances and each system account's balance; and every inconsistency found.
 * One batch, so the sums and checks read one consistent snapshot.
 */
export async function reconcile(
  db: TenantDb,
  extra: { kind: string; query: SQL }[] = [],
): Promise<{ currencies: CurrencySums[]; inconsistencies: Inconsistency[] }> {
  const checks = [...LEDGER_CHECKS, ...extra];
  const [sums, balances, ...found] = (await db.batch([
    db.all(sql`SELECT currency, sum(amount) AS total FROM ledger_entries GROUP BY currency`),
    db.all(sql`SELECT currency, kind, owner, sum(balance) AS total FROM ledger_accounts
      GROUP BY currency, kind, CASE kind WHEN 'user' THEN '' ELSE owner END`),
    ...checks.map((c) => db.all(sql`SELECT * FROM (${c.query}) LIMIT ${MAX_FINDINGS}`)),
  ] as unknown as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown as [
    { currency: string; total: number }[],
    { currency: string; kind: string; owner: string; total: number }[],
    ...{ id: string; detail: string }[][],
  ];
  const byCurrency = new Map<string, CurrencySums>();
  const of = (currency: string): CurrencySums => {
    let s = byCurrency.get(currency);
    if (!s) {
      s = {
        currency,
        entriesSum: 0,
        userBalances: 0,
        systemAccounts: { payments_clearing: 0, revenue: 0, refunds: 0, promotions: 0 },
      };
      byCurrency.set(currency, s);
    }
    return s;
  };
  for (const r of sums) of(r.currency).entriesSum = r.total;
  for (const r of balances) {
    const s = of(r.currency);
    if (r.kind === "user") s.userBalances = r.total;
    else if ((SYSTEM_ACCOUNTS as readonly string[]).includes(r.owner))
      s.systemAccounts[r.owner as SystemAccount] = r.total;
  }
  const inconsistencies: Inconsistency[] = [];
  for (const s of byCurrency.values()) {
    if (s.entriesSum !== 0) {
      inconsistencies.push({ kind: "currency_unbalanced", id: s.currency, detail: `entries sum to ${s.entriesSum}` });
    }
  }
  found.forEach((rows, i) => {
    for (const r of rows) inconsistencies.push({ kind: checks[i]!.kind, id: String(r.id), detail: String(r.detail) });
  });
  const currencies = [...byCurrency.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1));
  return { currencies, inconsistencies };
}
