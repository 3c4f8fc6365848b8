import { MODERATION_CATEGORIES, type ModerationCategory } from "../../lib/ai/provider";
import { wordListModerator } from "../../lib/moderation";
import type { TenantScope } from "../gateway/context";
import { metered } from "./meter";
import { providerFor } from "./providers";

/** A moderation verdict (docs/ai.md, Moderation). */
export interface Verdict {
  decision: "allow" | "review" | "block";
  /** Categories at or over their review threshold. */
  categories: ModerationCategory[];
  scores: Partial<Record<ModerationCategory, number>>;
  /** Who decided: the tenant's word list, or the provider that scored the text. */
  provider: string;
}

/** Holds on the quota until a moderation call settles, if it never does (its timeout is far shorter). */
const MODERATION_TTL_MS = 60_000;

/** The decision the tenant's thresholds give a provider's scores. */
export function decide(s: TenantScope, scores: Partial<Record<ModerationCategory, number>>): Omit<Verdict, "provider"> {
  const thresholds = s.tenant.config.ai.moderation.thresholds;
  let decision: Verdict["decision"] = "allow";
  const categories: ModerationCategory[] = [];
  for (const c of MODERATION_CATEGORIES) {
    const score = scores[c] ?? 0;
    if (score >= thresholds[c].block) decision = "block";
    if (score >= thresholds[c].review) {
      categories.push(c);
      if (decision === "allow") decision = "review";
    }
  }
  return { decision, categories, scores };
}

/**
 * Moderates one text: the tenant's word list first (a match decides: `block` blocks, `mask` and
 * `review` ask for review), then the classifier, metered as one unit to `userId` (and the pool).
 */
export async function moderateText(
  s: TenantScope,
  text: string,
  who: { userId: string | null; feature?: string },
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Verdict> {
  const listed = wordListModerator(s.tenant.config.messages.moderation).check(text);
  if (listed.action !== "allow") {
    return {
      decision: listed.action === "block" ? "block" : "review",
      categories: [],
      scores: {},
      provider: "wordlist",
    };
  }
  const provider = providerFor(s, "moderation");
  return metered(
    s,
    { userId: who.userId, feature: who.feature ?? "moderation", estimate: 1, ttlMs: MODERATION_TTL_MS },
    waitUntil,
    async () => {
      const scores = await provider.moderate(text, AbortSignal.timeout(2_000));
      return {
        result: { ...decide(s, scores.categories), provider: provider.name },
        units: 1,
        provider: provider.name,
        model: provider.model,
        status: "ok",
      };
    },
  );
}
