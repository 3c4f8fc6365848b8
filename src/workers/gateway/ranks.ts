import type { TenantDb } from "../../db/client";
import type { RoleRow, UserRow } from "../../db/tenant/schema";
import { findUserById, rolesOfUser } from "../../db/tenant/users";
import { AppError } from "../../lib/errors";
import type { Principal } from "./context";

/**
 * Role ranks (docs/identity.md, "Roles and ranks"): owner 100, admin 80, moderator 50, member 0,
 * custom roles 1–99. Permissions say what an actor may do; ranks say to whom:
 * - an actor acts on another user only when its highest rank is above the target's highest rank;
 *   owners, the top rank, may also act on other owners;
 * - an actor grants, takes away, creates, edits or deletes only roles ranked below its own (an
 *   owner also the owner role);
 * - an API key acts with the rank its creator had when it was made.
 * The last active owner is kept by the database itself (migrations/tenant/0011).
 */
export const OWNER_RANK = 100;
export const CUSTOM_RANKS = { min: 1, max: 99, default: 10 } as const;

/** The highest rank among roles (0 with none). */
export const highestRank = (roles: Pick<RoleRow, "rank">[]): number => roles.reduce((m, r) => Math.max(m, r.rank), 0);

/** The rank a caller acts with. */
export async function rankOf(db: TenantDb, p: Principal): Promise<number> {
  return p.kind === "api_key" ? p.rank : highestRank(await rolesOfUser(db, p.userId));
}

const above = (actor: number, target: number) => actor > target || actor === OWNER_RANK;

/** 403 `rank_too_low` unless the caller outranks the target user (or is the target). */
export async function assertOutranks(
  db: TenantDb,
  p: Principal,
  targetUserId: string,
  targetRoles?: RoleRow[],
): Promise<void> {
  if (p.kind === "user" && p.userId === targetUserId) return;
  const [mine, theirs] = await Promise.all([
    rankOf(db, p),
    targetRoles ? highestRank(targetRoles) : rolesOfUser(db, targetUserId).then(highestRank),
  ]);
  if (!above(mine, theirs)) {
    throw new AppError(
      "rank_too_low",
      `Your highest role (rank ${mine}) does not outrank this user's (rank ${theirs}).`,
    );
  }
}

/** A target user of this tenant that is not deleted, or 404 (also for ids of other tenants). */
export async function targetUser(db: TenantDb, id: string): Promise<UserRow> {
  const u = await findUserById(db, id);
  if (!u || u.status === "deleted") throw new AppError("user_not_found", "No such user.");
  return u;
}

/** {@link targetUser}, and only when the caller outranks that user (or is that user). */
export async function outrankedUser(db: TenantDb, p: Principal, id: string): Promise<UserRow> {
  const u = await targetUser(db, id);
  await assertOutranks(db, p, u.id);
  return u;
}

/** 403 `rank_too_low` unless every role is ranked below the caller's rank (an owner may handle owner). */
export function assertRanksBelow(mine: number, roles: Pick<RoleRow, "name" | "rank">[]): void {
  const beyond = roles.filter((r) => !(r.rank < mine || mine === OWNER_RANK));
  if (beyond.length) {
    throw new AppError(
      "rank_too_low",
      `Roles at or above your rank (${mine}) are out of your reach: ${beyond.map((r) => `${r.name} (${r.rank})`).join(", ")}.`,
    );
  }
}
