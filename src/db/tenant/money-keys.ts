import { type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";

/**
 * Idempotency keys of money-moving requests (migrations/tenant/0021, docs/commerce.md). Unlike
 * the platform's keys (gateway/middleware/idempotency.ts), these live beside the money and are
 * completed in the effect's own transaction: if that transaction committed, the key says so,
 * whatever happened to the response; if it did not, the key is still running or released.
 */

/** One request's key: the route and caller (`scope`), the client's key, the body's hash, and this run. */
export interface MoneyKey {
  scope: string;
  key: string;
  hash: string;
  /** This run's random id: only the run holding the lease may complete or release the key. */
  owner: string;
}

/** The key's row as read after a claim. */
export interface MoneyKeyRow {
  request_hash: string;
  owner: string;
  state: "running" | "done";
  status: number | null;
  response: string | null;
}

/**
 * How long a run holds its key before a retry may take it over. Correctness does not rest on it:
 * completing a key and the effect's gate both require this run to still own it, so a slow run
 * overtaken by a retry changes nothing and answers what the key says. It only bounds how long a
 * retry waits (409 `idempotency_in_progress`) after a run died or could not release its key
 * (the database was unreachable): longer than one request's database calls can take.
 */
export const MONEY_KEY_LEASE_MS = 15_000;
/** How long a completed key replays its answer. */
export const MONEY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The claim's statements for a batch: insert the key as running under this run, or take over a
 * running key whose lease ran out (its run died), then read the row. The last item's rows say
 * who holds it (see {@link claimOutcome}).
 */
export function claimOps(db: TenantDb, k: MoneyKey, now: number): BatchItem<"sqlite">[] {
  return [
    db.run(sql`INSERT INTO money_keys (scope, key, request_hash, owner, state, locked_until, created_at)
      VALUES (${k.scope}, ${k.key}, ${k.hash}, ${k.owner}, 'running', ${now + MONEY_KEY_LEASE_MS}, ${now})
      ON CONFLICT (scope, key) DO NOTHING`),
    // A key older than its TTL is a new key; a running one past its lease belongs to a dead run.
    db.run(sql`UPDATE money_keys SET request_hash = ${k.hash}, owner = ${k.owner}, state = 'running', status = NULL,
        response = NULL, locked_until = ${now + MONEY_KEY_LEASE_MS}, created_at = ${now}
      WHERE scope = ${k.scope} AND key = ${k.key} AND owner <> ${k.owner}
        AND (created_at <= ${now - MONEY_KEY_TTL_MS}
          OR (state = 'running' AND locked_until < ${now} AND request_hash = ${k.hash}))`),
    db.all(sql`SELECT request_hash, owner, state, status, response FROM money_keys
      WHERE scope = ${k.scope} AND key = ${k.key}`),
  ];
}

export type ClaimOutcome =
  | { kind: "mine" }
  | { kind: "replay"; status: number; body: unknown }
  | { kind: "mismatch" }
  | { kind: "in_progress" };

/** What the claimed row means for this run. */
export function claimOutcome(row: MoneyKeyRow | undefined, k: MoneyKey): ClaimOutcome {
  if (!row) return { kind: "in_progress" };
  if (row.request_hash !== k.hash) return { kind: "mismatch" };
  if (row.state === "done")
    return { kind: "replay", status: row.status ?? 200, body: JSON.parse(row.response ?? "null") };
  return row.owner === k.owner ? { kind: "mine" } : { kind: "in_progress" };
}

/** Reads a key's row again (after a run lost its lease, to answer what the other run decided). */
export async function readMoneyKey(db: TenantDb, k: MoneyKey): Promise<MoneyKeyRow | undefined> {
  const rows = await db.all<MoneyKeyRow>(sql`SELECT request_hash, owner, state, status, response FROM money_keys
    WHERE scope = ${k.scope} AND key = ${k.key}`);
  return rows[0];
}

/**
 * The statement completing the key with an answer, only while this run holds it, and only
 * where `condition` holds: the first statement of an effect's batch (then `changes() = 1` in
 * the next statement means "this run still owns the key"), or the answer of a decided refusal
 * (402) guarded by the effect's gate not having applied.
 */
export function completeOp(
  db: TenantDb,
  k: MoneyKey,
  answer: { status: number; body: unknown },
  condition: SQL = sql`1`,
): BatchItem<"sqlite"> {
  return db.run(sql`UPDATE money_keys SET state = 'done', status = ${answer.status},
      response = ${JSON.stringify(answer.body)}
    WHERE scope = ${k.scope} AND key = ${k.key} AND owner = ${k.owner} AND ${condition}`);
}

/** SQL true while this run still holds its key (guards the writes a claim's batch makes for this run only). */
export const stillRunning = (k: MoneyKey): SQL =>
  sql`EXISTS (SELECT 1 FROM money_keys WHERE scope = ${k.scope} AND key = ${k.key} AND owner = ${k.owner} AND state = 'running')`;

/** {@link completeOp} for the first statement of an effect's batch: only a key still running under this run. */
export const completeRunningOp = (db: TenantDb, k: MoneyKey, answer: { status: number; body: unknown }) =>
  completeOp(db, k, answer, sql`state = 'running'`);

/** Lets the key go after a run failed before its effect committed (only if still this run's). */
export async function releaseMoneyKey(db: TenantDb, k: MoneyKey): Promise<void> {
  await db.run(sql`DELETE FROM money_keys
    WHERE scope = ${k.scope} AND key = ${k.key} AND owner = ${k.owner} AND state = 'running'`);
}

/** Deletes up to `limit` keys past their TTL (the hourly sweep); the number deleted. */
export async function sweepMoneyKeys(db: TenantDb, now: number, limit = 5000): Promise<number> {
  const res = await db.run(sql`DELETE FROM money_keys WHERE rowid IN (
    SELECT rowid FROM money_keys WHERE created_at <= ${now - MONEY_KEY_TTL_MS} LIMIT ${limit})`);
  return res.rowsAffected;
}
