import { countTokens, truncateToTokens } from "../../lib/ai/tokens";
import { AppError } from "../../lib/errors";
import type { TenantScope } from "../gateway/context";
import { metered } from "./meter";
import { type Chosen, providerFor } from "./providers";
import { remoteConfigs } from "./provider-config";
import { isUnavailable } from "./resilience";

/**
 * Embeddings for vectors (docs/ai.md, Vectors): whether a tenant has them on, which model makes
 * them (its space: vectors of other models are never compared), and one metered call that makes
 * some.
 */

/** The provider serving `embeddings` and the name of the space its vectors live in. */
export interface EmbeddingSpace {
  chosen: Chosen;
  /** `<provider>:<embedding model>`, stored with every vector. */
  model: string;
}

/** At most this much of a text is embedded (the models' inputs are about this long). */
export const EMBED_MAX_TOKENS = 512;
/** Holds on the quota until an embedding call settles, if it never does (its timeout is 5 s). */
const EMBED_TTL_MS = 60_000;

/**
 * The tenant's embedding space, or null when vectors are off: `ai.embeddings.enabled` true (the
 * `local` hashing embeddings unless a provider serves `embeddings`), false, or null (the default:
 * on exactly when a configured provider serves `embeddings`).
 */
export async function embeddingSpace(s: TenantScope): Promise<EmbeddingSpace | null> {
  const on = s.tenant.config.ai.embeddings.enabled;
  if (on === false) return null;
  if (on === null && !(await remoteConfigs(s)).some((r) => r.features.includes("embeddings"))) return null;
  const chosen = await providerFor(s, "embeddings");
  return { chosen, model: `${chosen.provider.name}:${chosen.provider.embeddingModel}` };
}

/**
 * Embeds `texts` (each cut to EMBED_MAX_TOKENS) in one metered call: their tokens to `userId`
 * and the pool, or to the pool only (`userId` null, the tenant's automatic work). Null when the
 * provider is unavailable (down, timed out, breaker open: nothing charged) or, for automatic
 * work, when the pool is exhausted; a user's exhausted quota is their 429.
 */
export async function embedMetered(
  s: TenantScope,
  space: EmbeddingSpace,
  texts: string[],
  who: { userId: string | null; feature: string },
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Float32Array[] | null> {
  const cut = texts.map((t) => truncateToTokens(t, EMBED_MAX_TOKENS));
  const estimate = Math.max(
    1,
    cut.reduce((n, t) => n + countTokens(t), 0),
  );
  const { provider } = space.chosen;
  const req = { userId: who.userId, feature: who.feature, estimate, ttlMs: EMBED_TTL_MS, noLease: who.userId === null };
  try {
    return await metered(s, req, waitUntil, async () => {
      const base = { provider: provider.name, model: provider.embeddingModel };
      try {
        const vectors = await space.chosen.run((p, signal) => p.embed(cut, signal));
        return { ...base, result: vectors, units: estimate, status: "ok" as const };
      } catch (err) {
        if (!isUnavailable(err)) throw err;
        return { ...base, result: null, units: 0, status: "degraded" as const };
      }
    });
  } catch (err) {
    if (who.userId === null && err instanceof AppError && err.code === "quota_exhausted") return null;
    throw err;
  }
}
