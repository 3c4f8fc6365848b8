import type { SQL } from "drizzle-orm";
import { itemInsertSql, type TargetType } from "../../db/tenant/moderation-items";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { type ModerationAction, wordListModerator } from "../../lib/moderation";
import { classifyText } from "../ai-core/moderation";
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

/** Why a text was held: what the item in the review queue shows. */
export interface Finding {
  categories: string[];
  scores: Record<string, number>;
  provider: string;
  degraded: boolean;
}

/** A hold by the word list (it names no categories). */
export const WORDLIST_FINDING: Finding = { categories: [], scores: {}, provider: "wordlist", degraded: false };

/**
 * The classifier's step of the hook (docs/ai.md, Moderation), for a text the word list let
 * through, when the tenant enables it (`ai.moderation.classifier`): `block` refuses the write
 * (422 `content_blocked`), `review` answers why to hold it, `allow` null. Metered to the tenant's
 * pool only (an exhausted user can still post); a provider down or an exhausted pool holds the
 * text for review (`degraded`) rather than let it through unchecked or refuse it.
 */
export async function classify(scope: TenantScope, text: string): Promise<Finding | null> {
  if (!scope.tenant.config.ai.moderation.classifier || text.trim() === "") return null;
  const v = await classifyText(
    scope,
    text,
    { userId: null, feature: "moderation.auto", degradeWhenExhausted: true },
    () => undefined,
  );
  if (v.decision === "block") throw new AppError("content_blocked", "The content was refused by moderation.");
  if (v.decision === "allow") return null;
  return { categories: v.categories, scores: v.scores, provider: v.provider, degraded: v.degraded === true };
}

/** The statement that files a held text's review item (in the batch that stores it). */
export function heldItemSql(
  target: { type: TargetType; id: string; authorId: string; text: string },
  finding: Finding,
  now: number,
): SQL {
  return itemInsertSql({
    id: `mi_${newId(now)}`,
    targetType: target.type,
    targetId: target.id,
    authorId: target.authorId,
    excerpt: [...target.text].slice(0, 280).join(""),
    autoDecision: "review",
    categories: finding.categories,
    scores: finding.scores,
    provider: finding.provider,
    degraded: finding.degraded,
    status: "open",
    now,
  });
}
