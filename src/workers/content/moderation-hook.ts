import { AppError } from "../../lib/errors";
import { type ModerationAction, wordListModerator } from "../../lib/moderation";
import type { TenantScope } from "../gateway/context";

/**
 * The moderation hook posts and comments pass before they are stored: the tenant's moderator
 * (today the word list of `messages.moderation`, shared with messages; classifiers plug in behind
 * the same `Moderator` interface). Each text field is checked; `block` anywhere refuses the whole
 * write with 422 `content_blocked`, `mask` stars the matches out of the field, `review` holds the
 * post or comment for a moderator (the caller stores it `under_review`).
 */
export function moderateFields<T extends Record<string, string | undefined>>(
  { tenant }: TenantScope,
  fields: T,
): { held: boolean; fields: T } {
  const moderator = wordListModerator(tenant.config.messages.moderation);
  const out: Record<string, string | undefined> = {};
  const actions = new Set<ModerationAction>();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) {
      out[name] = value;
      continue;
    }
    const r = moderator.check(value);
    actions.add(r.action);
    out[name] = r.text;
  }
  if (actions.has("block")) throw new AppError("content_blocked", "The content was refused by moderation.");
  return { held: actions.has("review"), fields: out as T };
}

/**
 * Tags pass the same hook, one at a time: `block` refuses the write (422 `content_blocked`),
 * `review` holds the post, and a tag `mask` would star is dropped (a starred tag names nothing).
 */
export function moderateTags({ tenant }: TenantScope, tags: string[] | undefined): { held: boolean; tags?: string[] } {
  if (tags === undefined) return { held: false };
  const moderator = wordListModerator(tenant.config.messages.moderation);
  const checked = tags.map((t) => ({ t, r: moderator.check(t) }));
  if (checked.some((c) => c.r.action === "block"))
    throw new AppError("content_blocked", "A tag was refused by moderation.");
  return {
    held: checked.some((c) => c.r.action === "review"),
    tags: checked.filter((c) => c.r.action !== "mask").map((c) => c.t),
  };
}
