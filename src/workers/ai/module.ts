import { sweepChatAudit } from "../../db/tenant/ai-chat";
import { sweepPackHolds } from "../../db/tenant/ai-quota";
import type { ServiceModule } from "../gateway/module";
import { chatRoutes } from "./chat-routes";
import { aiConfig } from "./config";
import { FACT_EVENT_TYPES, factsConsumer } from "./facts-consumer";
import { grantRoutes } from "./grant-routes";
import { knowledgeRoutes } from "./knowledge-routes";
import { messageModerationConsumer } from "./message-moderation";
import { moderateRoutes } from "./moderate-routes";
import { providerAdminRoutes } from "./provider-admin";
import { quotaRoutes } from "./quota-routes";
import { REC_EVENT_TYPES, recConsumer } from "./rec-consumer";
import { usageRoutes } from "./usage-routes";
import { sweepVectors, vectorConsumer } from "./vectors";

/** AI with quotas: metered calls against each user's quota and the tenant's pool (docs/ai.md). */
export const aiModule: ServiceModule = {
  name: "ai",
  routes: [
    { base: "/v1", router: quotaRoutes },
    { base: "/v1", router: grantRoutes },
    { base: "/v1", router: moderateRoutes },
    { base: "/v1", router: providerAdminRoutes },
    { base: "/v1", router: usageRoutes },
    { base: "/v1", router: knowledgeRoutes },
    { base: "/v1", router: chatRoutes },
  ],
  emits: ["ai.quota.warning", "ai.quota.granted"],
  config: aiConfig,
  fuzzIds: {
    knowledge: { segments: ["knowledge"] },
    // Not by the segment "sessions": that names the auth service's sign-in sessions.
    chatSessions: { params: ["sessionId"] },
  },
  consumers: [
    { queue: "ai", types: REC_EVENT_TYPES, consume: recConsumer },
    { queue: "ai", types: FACT_EVENT_TYPES, consume: factsConsumer },
    { queue: "ai", types: ["message.created"], consume: messageModerationConsumer },
    { queue: "ai", types: ["post.published"], consume: vectorConsumer },
  ],
  sweeps: [
    // Vectors the writes missed: a provider down, the pool exhausted, an edit, vectors turned on.
    sweepVectors,
    // Pack units held by calls that never settled (their Worker died) go back once their hold expires.
    async ({ db }, now): Promise<Record<string, number>> => {
      const n = await sweepPackHolds(db, now);
      return n ? { aiPackHoldsSwept: n } : {};
    },
    // Chat prompts and retrieved ids are kept `ai.chat.auditDays` for audit, then deleted.
    async ({ db, tenant }, now): Promise<Record<string, number>> => {
      const n = await sweepChatAudit(db, now - tenant.config.ai.chat.auditDays * 86_400_000);
      return n ? { aiChatAuditSwept: n } : {};
    },
  ],
};
