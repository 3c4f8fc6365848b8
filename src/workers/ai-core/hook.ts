import type { SQL } from "drizzle-orm";
import { itemInsertSql, type TargetType } from "../../db/tenant/moderation-items";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import type { TenantScope } from "../gateway/context";
import { classifyText } from "./moderation";

/**
 * The classifier's step of the moderation hooks of posts, comments and profiles (docs/ai.md,
 * Moderation), and the review item a held text files; the word list runs before, in each
 * service's own hook.
 */

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
