import { e, type ErrorSpec } from "./error-spec";

/** The registry's codes of the AI service (quotas, providers, knowledge, chat); src/lib/error-codes.ts joins them. */
export const aiErrorGroups = {
  AI: {
    quota_exhausted: e(
      429,
      "Quota exhausted",
      'The AI quota of the user (`scope: "user"`) or the tenant\'s pool (`scope: "tenant"`) has no units left for this call; `resetsAt` and `Retry-After` say when it resets. No provider was called.',
    ),
  },
} as const satisfies Record<string, Record<string, ErrorSpec>>;
