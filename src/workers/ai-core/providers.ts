import { localProvider } from "../../lib/ai/local";
import { openAiCompatibleProvider } from "../../lib/ai/openai-compatible";
import { type AiProvider, ProviderError } from "../../lib/ai/provider";
import { type AiBinding, workersAiProvider } from "../../lib/ai/workers-ai";
import type { TenantScope } from "../gateway/context";
import { type AiFeature, remoteConfigs } from "./provider-config";
import { guarded } from "./resilience";

export type { AiFeature } from "./provider-config";

const local = localProvider();

/** Hard timeouts per feature (chat's is to its first delta; the stream has its own idle timer). */
export const FEATURE_TIMEOUT_MS: Record<AiFeature, number> = { chat: 10_000, moderation: 2_000, embeddings: 5_000 };

/** The provider serving a feature for the tenant, and the key of its breaker. */
export interface Chosen {
  provider: AiProvider;
  /** `<tenant>:<provider>:<feature>`: the policy (breaker, retry, timeout) the call runs under. */
  key: string;
  /** Runs a call under the provider's policy. */
  run<T>(call: (p: AiProvider, signal: AbortSignal) => Promise<T>): Promise<T>;
}

/**
 * The provider a tenant uses for a feature (docs/ai.md, Providers): the configured row claiming
 * the feature, else `local`. `workers-ai` needs the `AI` binding; without one (local development
 * declares none) its calls fail as unavailable and the feature degrades.
 */
export async function providerFor(s: TenantScope, feature: AiFeature): Promise<Chosen> {
  const row = (await remoteConfigs(s)).find((r) => r.features.includes(feature));
  let provider: AiProvider = local;
  if (row?.provider === "openai-compatible" && row.settings.baseUrl && row.apiKey) {
    provider = openAiCompatibleProvider({
      baseUrl: row.settings.baseUrl,
      apiKey: row.apiKey,
      model: row.settings.model ?? "gpt-4o-mini",
      embeddingModel: row.settings.embeddingModel,
    });
  } else if (row?.provider === "workers-ai") {
    provider = workersAiProvider(aiBinding(s.env));
  }
  const key = `${s.tenant.id}:${provider.name}:${feature}`;
  const { failures, halfOpenAfterMs } = s.tenant.config.ai.breaker;
  return {
    provider,
    key,
    run: (call) =>
      guarded(key, { failures, halfOpenAfterMs, timeoutMs: FEATURE_TIMEOUT_MS[feature] }, (signal) =>
        call(provider, signal),
      ),
  };
}

/** The `AI` binding when the deployment declares one; otherwise one whose every call fails. */
function aiBinding(env: Env): AiBinding {
  const bound = (env as Env & { AI?: AiBinding }).AI;
  if (bound) return bound;
  return {
    run: async () => {
      throw new ProviderError("no AI binding is configured", false);
    },
  };
}
