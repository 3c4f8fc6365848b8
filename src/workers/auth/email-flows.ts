import { and, eq, isNull, sql } from "drizzle-orm";
import {
  challengeByToken,
  countWrongCode,
  endChallenges,
  liveCodeChallenges,
  spendChallenge,
} from "../../db/tenant/email-challenges";
import { outboxInsert, outboxInsertIf } from "../../db/tenant/outbox";
import { users, type EmailChallengeRow, type EmailPurpose, type UserRow } from "../../db/tenant/schema";
import { canonical, findUserByEmail, findUserById } from "../../db/tenant/users";
import { constantTimeEqual } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import type { TenantScope } from "../gateway/context";
import { rateLimitStore } from "../gateway/middleware/rate-limit";
import { codeHashOf, tokenHashOf } from "./email-secrets";
import { AuthThrottle, type Subject } from "./throttle";

/** The events that ask the email consumer (email-consumer.ts) for a mail. */
export const EMAIL_EVENTS = {
  verificationRequested: "auth.email_verification_requested",
  resetRequested: "auth.password_reset_requested",
  codeRequested: "auth.email_code_requested",
  changeRequested: "auth.email_change_requested",
  passwordChanged: "user.password_changed",
  emailChanged: "user.email_changed",
} as const;

const HOUR = 3600;
const invalid = () =>
  new AppError("invalid_email_token", "The link or code is wrong, expired or already used; ask for a new one.");

/**
 * Counts a request for a mail (a reset, a sign-in code, a resend) against the address asked for
 * and the client's address, whether or not an account has it: the same limit, the same 429, so
 * the answer tells nothing about the account. Every request spends its unit (none is handed back).
 */
export async function throttleMailRequest(s: TenantScope, subject: string, ip: string): Promise<void> {
  const limit = s.tenant.config.auth.emailRequestsPerHour;
  const subjects: Subject[] = [
    ["email-request", subject, limit, HOUR],
    ["email-request-address", ip, limit * 20, HOUR],
  ];
  await new AuthThrottle(rateLimitStore(s.env), s.tenant).judge(subjects, async (fail) => fail());
}

/** Writes the event that asks for a mail; the publish after the response hands it to the queue. */
export async function requestMail(
  s: TenantScope,
  type: string,
  subject: string,
  data: Record<string, unknown>,
  traceparent?: string,
): Promise<void> {
  await outboxInsert(s.db, { type, subject, data, traceparent }).run();
}

/** Where a link token or an (email, code) pair points: the live challenge, or invalid_email_token. */
export type ChallengeProof = { token: string } | { email: string; code: string };

/**
 * Finds the live challenge a proof names. A token is looked up by its hash. A code is judged
 * under the address's code bucket (the same for known and unknown addresses) and compared with
 * each live challenge of the account in constant time; a wrong code counts against all of them
 * (each is spent after `maxEmailCodeFailures` wrong codes) and against the bucket (429 after it).
 */
export async function provenChallenge(
  s: TenantScope,
  purpose: EmailPurpose,
  proof: ChallengeProof,
  now = Date.now(),
): Promise<EmailChallengeRow> {
  if ("token" in proof) {
    const row = await challengeByToken(s.db, purpose, await tokenHashOf(proof.token), now);
    if (!row) throw invalid();
    return row;
  }
  const max = s.tenant.config.auth.maxEmailCodeFailures;
  const email = canonical(proof.email);
  const throttle = new AuthThrottle(rateLimitStore(s.env), s.tenant);
  return throttle.judge([["email-code", `${purpose}:${email}`, max]], async (fail) => {
    const user = await findUserByEmail(s.db, email);
    const live = user ? await liveCodeChallenges(s.db, user.id, purpose, now) : [];
    for (const row of live) {
      if (await constantTimeEqual(await codeHashOf(s.env, row.id, proof.code), row.codeHash ?? "")) return row;
    }
    if (user) await countWrongCode(s.db, user.id, purpose, max, now);
    fail();
    throw invalid();
  });
}

/** The account a challenge belongs to, active, with the address the challenge was sent to. */
export async function challengeUser(s: TenantScope, row: EmailChallengeRow): Promise<UserRow> {
  const user = await findUserById(s.db, row.userId);
  if (!user || user.status === "deleted") throw invalid();
  if (user.status === "suspended") throw new AppError("account_suspended", "The account is suspended.");
  return user;
}

/**
 * Spends a challenge with its effect (see spendChallenge): answers invalid_email_token when a
 * racing redemption spent it first, so of two confirmations exactly one applies.
 */
export async function spend(
  s: TenantScope,
  row: EmailChallengeRow,
  effect: Parameters<typeof spendChallenge>[3],
  now = Date.now(),
): Promise<void> {
  if (!(await spendChallenge(s.db, row.id, now, effect))) throw invalid();
}

/** Marks the address verified (only if it is still the address the challenge was sent to). */
export function verifyAddress(s: TenantScope, row: EmailChallengeRow, guard: ReturnType<typeof sql>, now: number) {
  return s.db
    .update(users)
    .set({ emailVerifiedAt: now, updatedAt: now })
    .where(and(eq(users.id, row.userId), eq(users.email, row.email), isNull(users.emailVerifiedAt), guard));
}

/** Ends the user's other outstanding challenges of these purposes, in the same transaction. */
export const endOthers = (s: TenantScope, row: EmailChallengeRow, purposes: EmailPurpose[], now: number) =>
  endChallenges(s.db, row.userId, purposes, now, row.id);

/** The `user.password_changed` event (the notice email), written only if the guard holds. */
export const passwordChangedEvent = (
  s: TenantScope,
  userId: string,
  reason: "reset" | "change",
  guard: ReturnType<typeof sql>,
  now: number,
) =>
  outboxInsertIf(s.db, { type: EMAIL_EVENTS.passwordChanged, subject: userId, data: { userId, reason } }, guard, now);
