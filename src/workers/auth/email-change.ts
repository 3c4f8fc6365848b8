import { recordSecurityEvent, type SecurityClient } from "../gateway/middleware/audit";
import { and, eq } from "drizzle-orm";
import { users, type EmailChallengeRow } from "../../db/tenant/schema";
import { canonical, findUserById } from "../../db/tenant/users";
import { isConstraintViolation } from "../../db/constraint";
import { outboxInsertIf } from "../../db/tenant/outbox";
import { hubStub } from "../../durable/protocol/stubs";
import { AppError } from "../../lib/errors";
import { verifyPassword } from "../../lib/password";
import type { TenantScope } from "../gateway/context";
import { rateLimitStore } from "../gateway/middleware/rate-limit";
import { challengeUser, EMAIL_EVENTS, endOthers, provenChallenge, requestMail, spend } from "./email-flows";
import { AuthThrottle, passwordSubject } from "./throttle";

/** How long the old address can undo a change. */
export const UNDO_HOURS = 72;

/**
 * Asks to change the account's address (signed in, current password required). Nothing changes
 * yet: the email consumer sends a confirmation link to the new address and a notice with an undo
 * link to the old one. The answer is the same whether or not the new address is taken (taken is
 * found out at confirmation), so it does not tell who has an account.
 */
export async function requestEmailChange(
  s: TenantScope,
  userId: string,
  input: { newEmail: string; password: string },
  traceparent?: string,
): Promise<void> {
  const user = await findUserById(s.db, userId);
  if (!user || user.status !== "active") throw new AppError("account_inactive", "The account is not active.");
  await new AuthThrottle(rateLimitStore(s.env), s.tenant).judge([passwordSubject(s.tenant, user.id)], async (fail) => {
    if (!(await verifyPassword(input.password, user.passwordHash)).ok) {
      fail();
      throw new AppError("invalid_credentials", "The password is wrong.");
    }
  });
  const newEmail = canonical(input.newEmail);
  if (newEmail === user.email) throw new AppError("email_unchanged", "That is the account's address already.");
  await requestMail(s, EMAIL_EVENTS.changeRequested, user.id, { userId: user.id, newEmail }, traceparent);
}

interface Change {
  oldEmail: string | null;
  newEmail: string;
}
const changeOf = (row: EmailChallengeRow) => JSON.parse(row.data ?? "{}") as Change;

/** Moves the address, in the same transaction as spending the challenge; a taken address is 409. */
async function moveAddress(
  s: TenantScope,
  row: EmailChallengeRow,
  from: string | null,
  to: string | null,
  now: number,
): Promise<void> {
  const fromMatches = from === null ? undefined : eq(users.email, from);
  try {
    await spend(
      s,
      row,
      (guard) => [
        s.db
          .update(users)
          .set({ email: to, emailVerifiedAt: now, updatedAt: now })
          .where(and(eq(users.id, row.userId), fromMatches, guard)),
        endOthers(s, row, ["email_change", "verify_email"], now),
        outboxInsertIf(
          s.db,
          { type: EMAIL_EVENTS.emailChanged, subject: row.userId, data: { userId: row.userId, from, to } },
          guard,
          now,
        ),
      ],
      now,
    );
  } catch (err) {
    if (isConstraintViolation(err)) throw new AppError("email_taken", "Another account uses that address now.");
    throw err;
  }
}

/** Applies a change with the link sent to the new address (while the old one is still in place). */
export async function confirmEmailChange(
  s: TenantScope,
  token: string,
  client: SecurityClient,
  now = Date.now(),
): Promise<string> {
  const row = await provenChallenge(s, "email_change", { token }, now);
  const user = await challengeUser(s, row);
  const change = changeOf(row);
  if (user.email !== change.oldEmail) throw new AppError("invalid_email_token", "The address changed since this mail.");
  await moveAddress(s, row, change.oldEmail, change.newEmail, now);
  await recordSecurityEvent(s.db, user.id, "emailChanged", client);
  return change.newEmail;
}

/**
 * Undoes a change with the link sent to the old address, within UNDO_HOURS: the old address
 * comes back (verified: the mail reached it), a pending confirmation ends, and every session is
 * revoked, since whoever changed the address may hold one.
 */
export async function undoEmailChange(
  s: TenantScope,
  token: string,
  client: SecurityClient,
  now = Date.now(),
): Promise<string | null> {
  const row = await provenChallenge(s, "email_undo", { token }, now);
  const user = await challengeUser(s, row);
  const change = changeOf(row);
  await moveAddress(s, row, user.email, change.oldEmail, now);
  await hubStub(s.env, s.tenant.id, user.id).revokeAll("email_change_undone", undefined, Date.now());
  await recordSecurityEvent(s.db, user.id, "emailChangeUndone", client);
  return change.oldEmail;
}
