import type { ProfileRow, UserRow } from "../../db/tenant/schema";
import type { PresenceView } from "../../durable/protocol/presence";

/** What other users of the tenant may see of a user: never email, phone, roles or status. */
export function publicUser(
  u: Pick<UserRow, "id" | "username">,
  p: ProfileRow,
  counts?: { followers: number; following: number },
) {
  return {
    id: u.id,
    username: u.username,
    nickname: p.nickname,
    avatarFileId: p.avatarFileId,
    bio: p.bio,
    locale: p.locale,
    region: p.region,
    ...(counts ?? {}),
  };
}

/** The owner's own view of their profile fields (merged into GET /v1/me). */
export function ownProfile(p: ProfileRow) {
  return {
    nickname: p.nickname,
    avatarFileId: p.avatarFileId,
    bio: p.bio,
    locale: p.locale,
    gender: p.gender,
    birthday: p.birthday,
    region: p.region,
  };
}

/** A user's presence as the viewer may see it: `null` when their privacy hides it from the viewer. */
export function presenceView(p: PresenceView | null) {
  return p ? { status: p.status, lastSeenAt: p.lastSeenAt } : null;
}
