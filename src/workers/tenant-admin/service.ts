import type { TenantDb } from "../../db/client";
import type { RoleRow, UserRow } from "../../db/tenant/schema";
import { AppError } from "../../lib/errors";
import { callerGrants, grantsAll } from "../gateway/middleware/authn";
import type { Principal } from "../gateway/context";
import { iso } from "../../lib/time";

export function userView(u: UserRow, roles: RoleRow[], nickname: string | null) {
  return {
    id: u.id,
    nickname,
    email: u.email,
    username: u.username,
    phone: u.phone,
    status: u.status,
    roles: roles.map((r) => r.name),
    mfaEnabled: u.mfaEnabled,
    createdAt: iso(u.createdAt),
  };
}

export function roleView(r: RoleRow) {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    permissions: JSON.parse(r.permissions) as string[],
    rank: r.rank,
    system: r.system,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

/**
 * No privilege escalation: a caller may only grant (to a role, a user or an API key) the
 * permissions it holds itself. An admin cannot mint an owner, nor a key broader than itself.
 */
export async function assertGrantable(db: TenantDb, p: Principal, permissions: string[]): Promise<void> {
  const grants = await callerGrants(db, p);
  const beyond = permissions.filter((perm) => !grantsAll(grants, perm));
  if (beyond.length)
    throw new AppError("privilege_escalation", `You cannot grant permissions you do not hold: ${beyond.join(", ")}.`);
}
