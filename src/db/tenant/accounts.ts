import { AppError } from "../../lib/errors";
import { isConstraintViolation } from "../constraint";
import { newId } from "../../lib/ids";
import { hashPassword } from "../../lib/password";
import { usernameSkeleton } from "../../lib/username-skeleton";
import type { TenantDb } from "../client";
import type { UserRow } from "./schema";
import { canonical, insertUser } from "./users";

export interface NewAccount {
  email?: string | undefined;
  username?: string | undefined;
  phone?: string | undefined;
  password: string;
}

/**
 * Inserts an account with its roles and `user.registered` event. The password is hashed before
 * the uniqueness check, and every conflict (email, username, a look-alike of a username, or phone)
 * answers the same 409, so a
 * conflict costs the same time and says the same thing whichever identifier is taken.
 */
export async function createAccount(
  db: TenantDb,
  input: NewAccount,
  roleIds: string[],
  traceparent?: string,
): Promise<UserRow> {
  const now = Date.now();
  const row: UserRow = {
    id: newId(now),
    email: input.email ? canonical(input.email) : null,
    username: input.username ? canonical(input.username) : null,
    usernameSkeleton: input.username ? usernameSkeleton(canonical(input.username)) : null,
    phone: input.phone ?? null,
    passwordHash: await hashPassword(input.password),
    status: "active",
    totpSecretSealed: null,
    mfaEnabled: false,
    totpLastStep: 0,
    createdAt: now,
    updatedAt: now,
    deletedAt: null,
    emailVerifiedAt: null,
    deletionDueAt: null,
    erasedAt: null,
  };
  try {
    await insertUser(db, row, roleIds, {
      type: "user.registered",
      subject: row.id,
      data: { userId: row.id, roles: roleIds },
      traceparent,
    });
  } catch (err) {
    if (isConstraintViolation(err))
      throw new AppError("account_unavailable", "An account cannot be created with these details.");
    throw err;
  }
  return row;
}
