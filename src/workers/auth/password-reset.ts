import { recordSecurityEvent, type SecurityClient } from "../gateway/middleware/audit";
import { and, eq } from "drizzle-orm";
import { users } from "../../db/tenant/schema";
import { canonical } from "../../db/tenant/users";
import { hubStub } from "../../durable/protocol/stubs";
import { hashPassword } from "../../lib/password";
import { checkPasswordPolicy } from "../../lib/password-policy";
import type { TenantScope } from "../gateway/context";
import {
  challengeUser,
  EMAIL_EVENTS,
  endOthers,
  passwordChangedEvent,
  provenChallenge,
  requestMail,
  spend,
  throttleMailRequest,
  verifyAddress,
  type ChallengeProof,
} from "./email-flows";

/**
 * Asks for a reset mail. The same work whether or not an account has the address: the request
 * is counted, one event is written, and the email consumer decides (an unknown address gets no
 * mail). So the answer, and its timing, say nothing about the account.
 */
export async function requestPasswordReset(
  s: TenantScope,
  email: string,
  client: { ip: string; traceparent?: string | undefined },
): Promise<void> {
  const address = canonical(email);
  await throttleMailRequest(s, `reset:${address}`, client.ip);
  await requestMail(s, EMAIL_EVENTS.resetRequested, address, { email: address }, client.traceparent);
}

/**
 * Sets a new password with a reset link or code: the policy applies; in one transaction the
 * password changes, the challenge and every other outstanding reset end, the address counts as
 * verified (the mail reached it) and the "password changed" notice is queued; then every session
 * is revoked, and the hub refuses sessions of sign-ins checked before (a racing sign-in with the
 * old password). MFA is untouched: the next sign-in still asks for the second factor.
 */
export async function confirmPasswordReset(
  s: TenantScope,
  proof: ChallengeProof,
  newPassword: string,
  client: SecurityClient,
  now = Date.now(),
): Promise<void> {
  const row = await provenChallenge(s, "password_reset", proof, now);
  const user = await challengeUser(s, row);
  checkPasswordPolicy(newPassword, [user.email ?? undefined, user.username ?? undefined]);
  const passwordHash = await hashPassword(newPassword);
  await spend(
    s,
    row,
    (guard) => [
      s.db
        .update(users)
        .set({ passwordHash, updatedAt: now })
        .where(and(eq(users.id, user.id), guard)),
      verifyAddress(s, row, guard, now),
      endOthers(s, row, ["password_reset", "sign_in_code"], now),
      passwordChangedEvent(s, user.id, "reset", guard, now),
    ],
    now,
  );
  // The time after the commit: a sign-in that read the old password before the commit checked it
  // earlier than this, so the hub refuses its session (`now` is from before the slow hashing).
  // Should this call fail, the `user.password_changed` event committed above repeats it from the
  // queue, for the sessions opened by `now` (email-consumer.ts).
  await hubStub(s.env, s.tenant.id, user.id).revokeAll("password_reset", undefined, Date.now());
  await recordSecurityEvent(s.db, user.id, "passwordReset", client);
}
