import type { ProfileRow, UserRow } from "../../db/tenant/schema";

/** What other users of the tenant may see of a user: never email, phone, roles or status. */
export function publicUser(u: Pick<UserRow, "id" | "username">, p: ProfileRow, counts?: { followers: number; following: number }) {
  return {
    id: u.id, username: u.username, nickname: p.nickname, avatarFileId: p.avatarFileId, bio: p.bio,
    locale: p.locale, region: p.region, ...(counts ?? {}),
  };
}

/** The owner's own view of their profile fields (merged into GET /v1/me). */
export function ownProfile(p: ProfileRow) {
  return { nickname: p.nickname, avatarFileId: p.avatarFileId, bio: p.bio, locale: p.locale, gender: p.gender, birthday: p.birthday, region: p.region };
}
