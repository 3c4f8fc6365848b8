import { sealContexts } from "../../lib/seal-contexts";
import { aiProviderRows, type RemoteProvider } from "../../db/tenant/ai-providers";
import { openSecret } from "../../lib/crypto";
import { SettledCache } from "../../lib/settled-cache";
import type { TenantScope } from "../gateway/context";

/**
 * A tenant's AI provider settings (docs/ai.md, Providers), read from its database and kept per
 * isolate for CONFIG_TTL_MS: a provider is asked on every AI call, its settings change rarely.
 * A PUT drops this isolate's copy; other isolates see the change within the TTL.
 */
export type AiFeature = "chat" | "moderation" | "embeddings";
export const AI_FEATURES: readonly AiFeature[] = ["chat", "moderation", "embeddings"];

export interface RemoteSettings {
  baseUrl?: string | undefined;
  model?: string | undefined;
  embeddingModel?: string | undefined;
}

export interface RemoteConfig {
  provider: RemoteProvider;
  features: AiFeature[];
  settings: RemoteSettings;
  apiKey: string | null;
  updatedAt: number;
}

const CONFIG_TTL_MS = 30_000;
const cache = new SettledCache<RemoteConfig[]>(1000);

export const aiSealContext = (tenantId: string, provider: RemoteProvider) => sealContexts.ai(tenantId, provider);

/** The tenant's configured providers, keys opened. */
export async function remoteConfigs(s: TenantScope, fresh = false): Promise<RemoteConfig[]> {
  const load = async () =>
    Promise.all(
      (await aiProviderRows(s.db)).map(async (r) => ({
        provider: r.provider,
        features: JSON.parse(r.features) as AiFeature[],
        settings: JSON.parse(r.settings) as RemoteSettings,
        apiKey: r.sealed
          ? ((
              JSON.parse(
                await openSecret(s.env.DB_ENCRYPTION_KEY, r.sealed, aiSealContext(s.tenant.id, r.provider)),
              ) as {
                apiKey?: string;
              }
            ).apiKey ?? null)
          : null,
        updatedAt: r.updatedAt,
      })),
    );
  if (fresh) cache.delete(s.tenant.id);
  return cache.get(s.tenant.id, (at) => Date.now() - at < CONFIG_TTL_MS, load);
}

/** Forgets this isolate's copy (after a change). */
export const forgetRemoteConfigs = (tenantId: string): void => cache.delete(tenantId);
