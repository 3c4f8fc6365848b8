import { canonical } from "../../db/tenant/users";
import type { DeviceInfo } from "../../durable/user-hub";
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
} from "./email-flows";
import { signInUser, type Client, type LoginResult } from "./service";

function requireEnabled(s: TenantScope): void {
  if (!s.tenant.config.signIn.emailCode)
    throw new AppError("sign_in_method_disabled", "This app does not offer sign-in with an emailed code.");
}

/** Asks for a sign-in code: the same answer and work for unknown addresses (see requestPasswordReset). */
export async function requestEmailCode(
  s: TenantScope,
  email: string,
  client: { ip: string; traceparent?: string | undefined },
): Promise<void> {
  requireEnabled(s);
  const address = canonical(email);
  await throttleMailRequest(s, `code:${address}`, client.ip);
  await requestMail(s, EMAIL_EVENTS.codeRequested, address, { email: address }, client.traceparent);
}

/**
 * Signs in with an emailed code: single use (spent in the transaction that marks the address
 * verified), expiring, attempt-limited per address; then exactly what a password sign-in leads
 * to (suspension, required verification, MFA, a session).
 */
export async function verifyEmailCode(
  s: TenantScope,
  input: { email: string; code: string; device?: Partial<DeviceInfo> | undefined },
  client: Client,
  now = Date.now(),
): Promise<LoginResult> {
  requireEnabled(s);
  const row = await provenChallenge(s, "sign_in_code", { email: input.email, code: input.code }, now);
  const user = await challengeUser(s, row);
  await spend(s, row, (guard) => [verifyAddress(s, row, guard, now), endOthers(s, row, ["sign_in_code"], now)], now);
  const verified = { ...user, emailVerifiedAt: user.emailVerifiedAt ?? now };
  return signInUser(s, verified, input.device, client, { checkedAt: now });
}
