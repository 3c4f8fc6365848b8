import { localProvider } from "../../lib/ai/local";
import type { AiProvider } from "../../lib/ai/provider";
import type { TenantScope } from "../gateway/context";

export type AiFeature = "chat" | "moderation" | "embeddings";

const local = localProvider();

/** The provider a tenant uses for a feature (docs/ai.md, Providers). */
export function providerFor(_s: TenantScope, _feature: AiFeature): AiProvider {
  return local;
}
