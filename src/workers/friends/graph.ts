import { eq, inArray } from "drizzle-orm";
import type { TenantDb } from "../../db/client";
import { profiles, users } from "../../db/tenant/schema";

export interface Peer {
  id: string;
  username: string | null;
  nickname: string;
  avatarFileId: string | null;
}

/** Display fields of the users on a page, in one query; users who vanished are shown blank. */
export async function peers(db: TenantDb, ids: string[]): Promise<(id: string) => Peer> {
  const rows = ids.length
    ? await db
        .select({
          id: users.id,
          username: users.username,
          nickname: profiles.nickname,
          avatarFileId: profiles.avatarFileId,
        })
        .from(users)
        .innerJoin(profiles, eq(profiles.userId, users.id))
        .where(inArray(users.id, ids))
        .all()
    : [];
  const byId = new Map(rows.filter((r) => r.id).map((r) => [r.id, r]));
  return (id) => byId.get(id) ?? { id, username: null, nickname: "", avatarFileId: null };
}
