import { scheduleDeletion, stayingOwners } from "../../db/tenant/erasure";
import { findUserById, roleIdsOf } from "../../db/tenant/users";
import { hubStub } from "../../durable/protocol/stubs";
import { AppError } from "../../lib/errors";
import { verifyPassword } from "../../lib/password";
import { eraseUser } from "../erasure/erase";
import type { TenantScope } from "../gateway/context";
import { rateLimitStore } from "../gateway/middleware/rate-limit";
import { assertPasswordAndCode } from "./mfa";
import { checkSecondFactor } from "./service";
import { AuthThrottle, passwordSubject } from "./throttle";

const HOUR_MS = 3_600_000;

/**
 * A user's own deletion request (docs/privacy.md): proven by the password, and by a TOTP or
 * recovery code when MFA is on, under the password change's throttle. Every session and socket
 * ends now, and a sign-in whose password was checked before this cannot open one after it; the
 * erasure runs when the tenant's grace period ends (at once when it is 0). Answers when.
 */
export async function requestDeletion(
  s: TenantScope,
  userId: string,
  input: { password: string; code?: string | undefined },
  now = Date.now(),
): Promise<number> {
  const { env, tenant, db } = s;
  const user = await findUserById(db, userId);
  if (!user || user.status !== "active") throw new AppError("account_inactive", "The account no longer exists.");
  if (user.mfaEnabled) {
    if (!input.code)
      throw new AppError("mfa_code_required", "TOTP is on: send a current code or a recovery code as `code`.");
    await assertPasswordAndCode(env, tenant, user, input.password, input.code, (u, c) => checkSecondFactor(s, u, c));
  } else {
    await new AuthThrottle(rateLimitStore(env), tenant).judge([passwordSubject(tenant, userId)], async (fail) => {
      if (!(await verifyPassword(input.password, user.passwordHash)).ok) {
        fail();
        throw new AppError("invalid_credentials", "The password is wrong.");
      }
    });
  }
  // Owners whose own deletion is pending do not count: one of them will not be the last left.
  if ((await roleIdsOf(db, userId)).includes("owner") && (await stayingOwners(db)) <= 1)
    throw new AppError(
      "last_owner",
      "The tenant's last active owner cannot delete the account; name another owner first.",
    );
  const dueAt = now + tenant.config.privacy.deletionGraceHours * HOUR_MS;
  if (!(await scheduleDeletion(db, userId, dueAt, now)))
    throw new AppError("account_inactive", "The account no longer exists.");
  // Stamped after the schedule committed: a sign-in that read the row before it refuses its session.
  await hubStub(env, tenant.id, userId).revokeAll("deletion_requested", undefined, Date.now());
  // With no grace the erasure runs now; what a failure leaves, the minute sweep finishes.
  if (dueAt <= now) await eraseUser(s, userId, now);
  return dueAt;
}
