import { eq, inArray } from "drizzle-orm";
import type { TenantDb } from "../../db/client";
import { profiles, users } from "../../db/tenant/schema";
import type { GraphError, GraphResult } from "../../durable/user-hub";
import { AppError } from "../../lib/errors";

/** Maps a graph refusal onto the API's errors. A block by the other side looks like no user. */
export function unwrap<T>(r: GraphResult<T>): T {
  if (r.ok) return r.value;
  const map: Record<GraphError, AppError> = {
    already_friends: new AppError("already_friends", "You are already friends."),
    you_blocked: new AppError("user_blocked", "You blocked this user; unblock them first."),
    not_found: new AppError("user_not_found", "No such user."),
    friend_limit: new AppError("friend_limit", "The friend limit is reached."),
    pending_limit: new AppError("pending_limit", "Too many pending friend requests."),
    request_not_found: new AppError("friend_request_not_found", "No such friend request."),
    request_not_pending: new AppError("friend_request_closed", "The friend request is no longer pending."),
    not_friends: new AppError("friend_not_found", "This user is not your friend."),
    group_not_found: new AppError("friend_group_not_found", "No such friend group."),
  };
  throw map[r.error];
}

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
