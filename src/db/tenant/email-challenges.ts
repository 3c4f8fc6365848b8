import { and, desc, eq, gt, isNull, lt, ne, or, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { TenantDb } from "../client";
import { emailChallenges, type EmailChallengeRow, type EmailPurpose } from "./schema";

/** At most this many live challenges of one purpose are tried against a code (newest first). */
const LIVE_LIMIT = 5;

/**
 * Inserts the challenges an event asks for, unless that event already made them (a redelivery):
 * one row per (event, purpose). Answers the rows as stored, new or not, so a retried send repeats
 * the same email with the same token and code.
 */
export async function challengesForEvent(db: TenantDb, rows: EmailChallengeRow[]): Promise<EmailChallengeRow[]> {
  if (!rows.length) return [];
  await db.insert(emailChallenges).values(rows).onConflictDoNothing().run();
  const eventId = rows[0]!.eventId;
  return db.select().from(emailChallenges).where(eq(emailChallenges.eventId, eventId)).all();
}

/** The mail of a challenge went out: its sealed copy is erased. */
export async function markChallengeSent(db: TenantDb, id: string, now: number): Promise<void> {
  await db.update(emailChallenges).set({ sealed: null, sentAt: now }).where(eq(emailChallenges.id, id)).run();
}

const live = (now: number) => and(isNull(emailChallenges.usedAt), gt(emailChallenges.expiresAt, now));

/** The live challenge of a purpose a link token names, if any. */
export function challengeByToken(
  db: TenantDb,
  purpose: EmailPurpose,
  tokenHash: string,
  now: number,
): Promise<EmailChallengeRow | undefined> {
  return db
    .select()
    .from(emailChallenges)
    .where(and(eq(emailChallenges.tokenHash, tokenHash), eq(emailChallenges.purpose, purpose), live(now)))
    .get();
}

/** A user's live challenges of a purpose that carry a code, newest first. */
export function liveCodeChallenges(
  db: TenantDb,
  userId: string,
  purpose: EmailPurpose,
  now: number,
): Promise<EmailChallengeRow[]> {
  return db
    .select()
    .from(emailChallenges)
    .where(
      and(
        eq(emailChallenges.userId, userId),
        eq(emailChallenges.purpose, purpose),
        live(now),
        sql`${emailChallenges.codeHash} IS NOT NULL`,
      ),
    )
    .orderBy(desc(emailChallenges.createdAt))
    .limit(LIVE_LIMIT)
    .all();
}

/**
 * Counts a wrong code against every live challenge of the user and purpose; a challenge that
 * reached `max` wrong codes is spent (used), so guessing stops with it.
 */
export async function countWrongCode(
  db: TenantDb,
  userId: string,
  purpose: EmailPurpose,
  max: number,
  now: number,
): Promise<void> {
  const mine = and(eq(emailChallenges.userId, userId), eq(emailChallenges.purpose, purpose), live(now));
  await db.batch([
    db
      .update(emailChallenges)
      .set({ attempts: sql`${emailChallenges.attempts} + 1` })
      .where(mine),
    db
      .update(emailChallenges)
      .set({ usedAt: now })
      .where(and(mine, sql`${emailChallenges.attempts} >= ${max}`)),
  ]);
}

/**
 * Spends a challenge together with its effect, in one transaction: the effect statements run
 * first, each guarded by the challenge being live (pass `guard(id, now)` into their WHERE), and
 * the challenge is marked used last. Of racing redemptions the writes are serialised, so only
 * the first sees it live; the answer says whether this one spent it.
 */
export async function spendChallenge(
  db: TenantDb,
  id: string,
  now: number,
  effect: (guard: ReturnType<typeof challengeLive>) => BatchItem<"sqlite">[],
): Promise<boolean> {
  const statements = effect(challengeLive(id, now));
  const claim: BatchItem<"sqlite"> = db
    .update(emailChallenges)
    .set({ usedAt: now })
    .where(and(eq(emailChallenges.id, id), live(now)));
  const all: BatchItem<"sqlite">[] = [...statements, claim];
  const results = await db.batch(all as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  return (results[results.length - 1] as { rowsAffected: number }).rowsAffected === 1;
}

/** A WHERE condition true while the challenge is unused and unexpired (for effect statements). */
export function challengeLive(id: string, now: number) {
  return sql`EXISTS (SELECT 1 FROM email_challenges c WHERE c.id = ${id} AND c.used_at IS NULL AND c.expires_at > ${now})`;
}

/**
 * Ends a user's live challenges of some purposes but `except` (a reset ends every other
 * outstanding reset), for the batch of the change that makes them moot.
 */
export function endChallenges(db: TenantDb, userId: string, purposes: EmailPurpose[], now: number, except = "") {
  return db
    .update(emailChallenges)
    .set({ usedAt: now })
    .where(
      and(
        eq(emailChallenges.userId, userId),
        or(...purposes.map((p) => eq(emailChallenges.purpose, p))),
        isNull(emailChallenges.usedAt),
        ne(emailChallenges.id, except),
      ),
    );
}

/** Forgets challenges that ended a day ago or more (hourly sweep). */
export async function pruneChallenges(db: TenantDb, now: number): Promise<number> {
  const r = await db
    .delete(emailChallenges)
    .where(lt(emailChallenges.expiresAt, now - 86_400_000))
    .run();
  return r.rowsAffected;
}
