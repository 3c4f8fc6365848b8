import { e, type ErrorSpec } from "./error-spec";

/** The registry's codes of the AI service (quotas, providers, knowledge, chat); src/lib/error-codes.ts joins them. */
export const aiErrorGroups = {
  AI: {
    quota_exhausted: e(
      429,
      "Quota exhausted",
      'The AI quota of the user (`scope: "user"`) or the tenant\'s pool (`scope: "tenant"`) has no units left for this call; `resetsAt` and `Retry-After` say when it resets. No provider was called.',
    ),
    ai_provider_invalid: e(
      400,
      "AI provider invalid",
      "An AI provider's settings cannot work: a base URL that is not allowed (link-local or metadata hosts anywhere; outside development not https or a private host), or features without the settings they need.",
    ),
    ai_provider_unavailable: e(
      503,
      "AI provider unavailable",
      "The feature's provider is down, timed out or its breaker is open, and the operation has no degraded answer (`Retry-After`).",
    ),
    knowledge_not_found: e(404, "Knowledge article not found", "No such article in this tenant's knowledge base."),
    chat_session_not_found: e(404, "Chat session not found", "No such chat session of yours."),
    handoff_unavailable: e(
      409,
      "Handoff unavailable",
      "No active member holds the tenant's support role (`ai.chat.supportRole`), so there is nobody to hand the chat to.",
    ),
    moderation_item_not_found: e(
      404,
      "Moderation item not found",
      "No such moderation item (or, for an appeal, not one of yours).",
    ),
    moderation_item_decided: e(
      409,
      "Moderation item decided",
      "The item was decided already (a concurrent decision won).",
    ),
    appeal_not_allowed: e(409, "Appeal not allowed", "Only a blocked item can be appealed, once."),
  },
} as const satisfies Record<string, Record<string, ErrorSpec>>;
