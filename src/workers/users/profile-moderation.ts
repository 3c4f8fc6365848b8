import type { SQL } from "drizzle-orm";
import { AppError } from "../../lib/errors";
import { wordListModerator } from "../../lib/moderation";
import { classify, type Finding, heldItemSql, WORDLIST_FINDING } from "../ai-core/hook";
import type { TenantScope } from "../gateway/context";

/**
 * The moderation hook of profiles (docs/ai.md, Moderation): a nickname and a bio pass the
 * tenant's word list, then the classifier when enabled. `block` refuses the change (422
 * `content_blocked`); `mask` stars the matches; `review` stores the text (a profile cannot wait
 * hidden) and files a review item, whose `block` decision resets the field.
 */
export async function moderateProfile<T extends { nickname?: string | undefined; bio?: string | undefined }>(
  s: TenantScope,
  userId: string,
  patch: T,
): Promise<{ patch: T; items: SQL[] }> {
  const moderator = wordListModerator(s.tenant.config.messages.moderation);
  const out = { ...patch };
  const items: SQL[] = [];
  const now = Date.now();
  for (const field of ["nickname", "bio"] as const) {
    const value = patch[field];
    if (value === undefined || value === "") continue;
    const r = moderator.check(value);
    if (r.action === "block") throw new AppError("content_blocked", `The ${field} was refused by moderation.`);
    out[field] = r.text as T[typeof field];
    const finding: Finding | null = r.action === "review" ? WORDLIST_FINDING : await classify(s, r.text);
    if (finding) items.push(heldItemSql({ type: field, id: userId, authorId: userId, text: r.text }, finding, now));
  }
  return { patch: out, items };
}
