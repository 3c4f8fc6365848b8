import { MODERATION_CATEGORIES, type ModerationCategory } from "../../lib/ai/provider";
import { AppError } from "../../lib/errors";
import { wordListModerator } from "../../lib/moderation";
import type { TenantScope } from "../gateway/context";
import { metered } from "./meter";
import { providerFor } from "./providers";
import { isUnavailable } from "./resilience";

/** A moderation verdict (docs/ai.md, Moderation). */
export interface Verdict {
  decision: "allow" | "review" | "block";
  /** Categories at or over their review threshold. */
  categories: ModerationCategory[];
  scores: Partial<Record<ModerationCategory, number>>;
  /** Who decided: the tenant's word list, or the provider that scored the text. */
  provider: string;
  /** The provider was unavailable (down, timed out, breaker open): the word list decided, and `allow` became `review`. */
  degraded?: true;
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
  return classifyText(s, text, { ...who, feature: who.feature ?? "moderation" }, waitUntil);
}

/**
 * The classifier alone (the caller ran the word list): one unit to `userId` and the pool, or to
 * the pool only (`userId: null`, the tenant's automatic work). The provider down, timed out or
 * its breaker open: `review`, `degraded: true`, nothing charged. The pool exhausted for automatic
 * work (`degradeWhenExhausted`): the same, so posting never depends on the pool.
 */
export async function classifyText(
  s: TenantScope,
  text: string,
  who: { userId: string | null; feature: string; degradeWhenExhausted?: boolean },
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Verdict> {
  const chosen = await providerFor(s, "moderation");
  const { provider } = chosen;
  const degraded: Verdict = { decision: "review", categories: [], scores: {}, provider: "wordlist", degraded: true };
  // Calls without a request to outlive them (`waitUntil` a no-op) take no lease.
  const req = {
    userId: who.userId,
    feature: who.feature,
    estimate: 1,
    ttlMs: MODERATION_TTL_MS,
    noLease: who.degradeWhenExhausted,
  };
  try {
    return await metered(s, req, waitUntil, async () => {
      try {
        const scores = await chosen.run((p, signal) => p.moderate(text, signal));
        const result = { ...decide(s, scores.categories), provider: provider.name };
        return { result, units: 1, provider: provider.name, model: provider.model, status: "ok" };
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        return { result: degraded, units: 0, provider: provider.name, model: provider.model, status: "degraded" };
      }
    });
  } catch (err) {
    if (who.degradeWhenExhausted && err instanceof AppError && err.code === "quota_exhausted") return degraded;
    throw err;
  }
}
