import { z } from "zod";
import { MODERATION_CATEGORIES, type ModerationCategory } from "../../lib/ai/provider";
import { isTimeZone } from "../../lib/periods";
import type { ConfigPart, SectionsOf } from "../../lib/tenant-config";

const ThresholdSchema = z
  .object({ review: z.number().min(0).max(1).default(0.5), block: z.number().min(0).max(1).default(0.9) })
  .strict()
  .refine((t) => t.review <= t.block, "review must not be above block")
  .prefault({});

const PeriodSchema = z.enum(["day", "week", "month"]);
const TimeZoneSchema = z.string().max(64).refine(isTimeZone, "must be an IANA time zone such as UTC or Asia/Shanghai");

/**
 * The AI service's part of the tenant config (docs/ai.md): each user's quota per period, the
 * tenant's pool (set by the platform, which owns tenant configs; unlimited by default) and the
 * quota lease.
 */
export const aiConfig = {
  sections: {
    ai: z
      .object({
        /** Every user's allowance per period; VIP bonuses and packs come on top. */
        quota: z
          .object({
            units: z.number().int().min(0).max(1_000_000_000).default(1000),
            period: PeriodSchema.default("day"),
            timeZone: TimeZoneSchema.default("UTC"),
            /** Packs count only in the period they were bought or granted in. */
            packsExpireAtReset: z.boolean().default(false),
          })
          .strict()
          .prefault({}),
        /** The whole tenant's allowance per period, shared by every user's calls; null: unlimited. */
        pool: z
          .object({
            units: z.number().int().min(0).max(1_000_000_000_000).nullable().default(null),
            period: PeriodSchema.default("month"),
            timeZone: TimeZoneSchema.default("UTC"),
          })
          .strict()
          .prefault({}),
        moderation: z
          .object({
            /** Whether posts, comments, messages and profiles also pass the classifier after the word list. */
            classifier: z.boolean().default(false),
            /** Per category: a score at or over `review` holds the item, at or over `block` refuses it. */
            thresholds: z
              .object(
                Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, ThresholdSchema])) as Record<
                  ModerationCategory,
                  typeof ThresholdSchema
                >,
              )
              .strict()
              .prefault({}),
          })
          .strict()
          .prefault({}),
        /** Provider calls: a breaker per isolate, provider and feature opens after `failures` in a row. */
        breaker: z
          .object({
            failures: z.number().int().min(1).max(100).default(5),
            halfOpenAfterMs: z.number().int().min(100).max(600_000).default(10_000),
          })
          .strict()
          .prefault({}),
        /** The customer-service chat (docs/ai.md, Chat). */
        chat: z
          .object({
            /** The provider's `max_tokens`, and with the prompt the quota hold of a turn. */
            maxOutputTokens: z.number().int().min(16).max(4096).default(512),
            /** The least fused retrieval score that counts as an answer; below it the chat says so. */
            minScore: z.number().min(0).max(1).default(0.01),
            /** With vectors on: the least similarity an article's vector needs to be retrieved at all. */
            minSimilarity: z.number().min(-1).max(1).default(0.3),
            noAnswerText: z
              .string()
              .min(1)
              .max(500)
              .default(
                "I could not find an answer to that in our help articles. You can ask a person from our support team.",
              ),
            /** Who a handoff goes to: active members with this role. */
            supportRole: z.string().min(1).max(64).default("support"),
            maxAgents: z.number().int().min(1).max(20).default(5),
            /** The longest wait for the provider's next chunk once an answer has started (then an error frame). */
            idleTimeoutMs: z.number().int().min(100).max(120_000).default(15_000),
            /** Prompts and retrieved ids are kept this long for audit. */
            auditDays: z.number().int().min(1).max(3650).default(90),
          })
          .strict()
          .prefault({}),
        /**
         * Vectors of posts and articles (docs/ai.md, Vectors): `true` on (with the `local` hashing
         * embeddings when no provider serves `embeddings`), `false` off, `null` on exactly when a
         * configured provider serves `embeddings`.
         */
        embeddings: z
          .object({ enabled: z.boolean().nullable().default(null) })
          .strict()
          .prefault({}),
        /** Isolates may grant small calls from a short lease of units (docs/ai.md, the lease). */
        lease: z
          .object({ enabled: z.boolean().default(true) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof aiConfig> {}
}
