import type { PostRow } from "../../db/tenant/posts";
import { activeIdsByUsername } from "../../db/tenant/users";
import type { TenantScope } from "../gateway/context";
import { maySee } from "./visibility";

/** At most this many distinct users are notified of one post's or comment's mentions. */
export const MAX_MENTIONS = 20;

// `@name`, not inside a word or an address (`a@b` is not a mention); a username's characters.
const MENTION = /(?<![\p{L}\p{N}_.@-])@([\p{L}\p{N}_.-]{3,32})/gu;

/** The usernames a text mentions (`@ann`), trailing dots and dashes dropped, at most {@link MAX_MENTIONS}. */
export function mentionNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(MENTION)) {
    const name = m[1]!.replace(/[.-]+$/, "");
    if (name.length >= 3) names.add(name);
    if (names.size >= MAX_MENTIONS) break;
  }
  return [...names];
}

/**
 * The users a post's or comment's text mentions who should hear of it: active users named by
 * username, not the author, who may see the post (so no block either way, and the post's
 * visibility lets them in). Decided when the content is written, as a message's mentions are.
 */
export async function mentionedUsers(scope: TenantScope, authorId: string, post: PostRow, text: string) {
  const ids = (await activeIdsByUsername(scope.db, mentionNames(text))).filter((id) => id !== authorId);
  const ok = await Promise.all(ids.map((id) => maySee(scope, id, post)));
  return ids.filter((_, i) => ok[i]);
}
