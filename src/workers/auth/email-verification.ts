import { findUserById } from "../../db/tenant/users";
import { AppError } from "../../lib/errors";
import type { TenantScope } from "../gateway/context";
import {
  challengeUser,
  EMAIL_EVENTS,
  endOthers,
  provenChallenge,
  requestMail,
  spend,
  throttleMailRequest,
  verifyAddress,
  type ChallengeProof,
} from "./email-flows";

/**
 * Proves the account's address with the verification link or code. The address must still be
 * the one the mail went to (a change of address in between voids it).
 */
export async function verifyEmail(s: TenantScope, proof: ChallengeProof, now = Date.now()): Promise<void> {
  const row = await provenChallenge(s, "verify_email", proof, now);
  const user = await challengeUser(s, row);
  if (user.email !== row.email) throw new AppError("invalid_email_token", "The address changed since this mail.");
  await spend(s, row, (guard) => [verifyAddress(s, row, guard, now), endOthers(s, row, ["verify_email"], now)], now);
}

/** Sends the verification mail again (signed in), within the per-account request limit. */
export async function resendVerification(
  s: TenantScope,
  userId: string,
  client: { ip: string; traceparent?: string | undefined },
): Promise<void> {
  const user = await findUserById(s.db, userId);
  if (!user || user.status !== "active") throw new AppError("account_inactive", "The account is not active.");
  if (!user.email) throw new AppError("email_required", "The account has no email address to verify.");
  if (user.emailVerifiedAt !== null) throw new AppError("email_already_verified", "The address is verified already.");
  if (s.tenant.config.signIn.emailVerification === "off")
    throw new AppError("sign_in_method_disabled", "This app does not verify email addresses.");
  await throttleMailRequest(s, `verify:${user.id}`, client.ip);
  await requestMail(s, EMAIL_EVENTS.verificationRequested, user.id, { userId: user.id }, client.traceparent);
}
