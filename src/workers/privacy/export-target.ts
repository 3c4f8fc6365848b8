import type { Context } from "hono";
import { findUserById } from "../../db/tenant/users";
import { AppError } from "../../lib/errors";
import type { AppEnv } from "../gateway/context";
import { assertOutranks } from "../gateway/ranks";

/** The user an admin exports: of this tenant, not deleted, and outranked by the caller; its id. */
export async function targetUser(c: Context<AppEnv>, id: string): Promise<string> {
  const db = c.get("db");
  const u = await findUserById(db, id);
  if (!u || u.status === "deleted") throw new AppError("user_not_found", "No such user.");
  await assertOutranks(db, c.get("principal"), u.id);
  return u.id;
}
