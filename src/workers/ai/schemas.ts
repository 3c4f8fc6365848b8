import { z } from "@hono/zod-openapi";
import { MODERATION_CATEGORIES } from "../../lib/ai/provider";
import { lineText, multilineText } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";

/** Schemas of the AI service's routes (docs/ai.md). */

export const QuotaSchema = z
  .object({
    period: z
      .object({ start: z.string(), end: z.string() })
      .openapi({ description: "The current period, [start, end)" }),
    limit: z
      .number()
      .int()
      .openapi({ description: "The period allowance: the tenant's `ai.quota.units` plus the VIP bonus" }),
    used: z.number().int(),
    reserved: z.number().int().openapi({ description: "Held by calls still running (and short leases)" }),
    remaining: z.number().int().openapi({ description: "What is left of the allowance, plus the packs" }),
    bonus: z.number().int().openapi({ description: "Units of the limit that the VIP level adds" }),
    packs: z.number().int().openapi({ description: "Units left in purchased packs and admin grants" }),
    status: z.enum(["ok", "warning", "critical", "exhausted"]).openapi({
      description: "By the share of `limit + packs` remaining: warning at 20 %, critical at 10 %, exhausted at 0",
    }),
  })
  .openapi("AiQuota");

export const UserIdParamSchema = z.object({ id: z.string().min(1).max(64) });

export const GrantCreateSchema = z
  .object({
    units: z.number().int().min(1).max(1_000_000_000),
    reason: lineText(500),
  })
  .strict()
  .openapi("AiQuotaGrantCreate");

export const GrantSchema = z
  .object({
    id: z.string(),
    source: z
      .enum(["grant", "order"])
      .openapi({ description: "An admin grant, or the units of a paid `ai_quota` order" }),
    userId: z.string(),
    units: z.number().int(),
    used: z.number().int(),
    revoked: z.number().int().openapi({ description: "Taken back by a refund (orders)" }),
    reason: z.string().nullable(),
    grantedBy: z.string().nullable(),
    orderId: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("AiQuotaGrant");

export const GrantListQuerySchema = PageQuerySchema;

export const ModerateSchema = z
  .object({ text: multilineText(20_000).pipe(z.string().min(1)) })
  .strict()
  .openapi("AiModerateRequest");

export const ModerationSchema = z
  .object({
    decision: z.enum(["allow", "review", "block"]),
    categories: z
      .array(z.enum(MODERATION_CATEGORIES))
      .openapi({ description: "Categories at or over their review threshold" }),
    scores: z
      .partialRecord(z.enum(MODERATION_CATEGORIES), z.number())
      .openapi({ description: "Score in [0, 1] per category" }),
    provider: z
      .string()
      .openapi({ description: "`local`, `workers-ai`, `openai-compatible`, or `wordlist` when the word list decided" }),
  })
  .openapi("AiModeration");

export const AiProviderNameSchema = z.enum(["openai-compatible", "workers-ai"]).openapi({
  description: "`local` needs no configuration: it serves every feature no provider claims",
});

const FeatureSchema = z.enum(["chat", "moderation", "embeddings"]);

export const AiProviderPutSchema = z
  .object({
    baseUrl: z
      .string()
      .max(2048)
      .optional()
      .openapi({ description: "openai-compatible: the API root, e.g. https://api.openai.com/v1" }),
    apiKey: z
      .string()
      .min(1)
      .max(512)
      .regex(/^[\x21-\x7e]+$/, "must be printable ASCII")
      .optional(),
    model: lineText(200).optional().openapi({ description: "The chat model (also used for moderation)" }),
    embeddingModel: lineText(200).optional(),
    features: z
      .array(FeatureSchema)
      .max(3)
      .refine((f) => new Set(f).size === f.length, "must not repeat a feature")
      .optional()
      .openapi({ description: "What this provider serves; taken away from the other provider. Left out: unchanged" }),
  })
  .strict()
  .openapi("AiProviderPut");

export const AiProviderSchema = z
  .object({
    provider: z.enum(["local", "openai-compatible", "workers-ai"]),
    features: z.array(FeatureSchema),
    configured: z.object({ apiKey: z.boolean() }),
    baseUrl: z.string().nullable(),
    model: z.string().nullable(),
    embeddingModel: z.string().nullable(),
    breakers: z
      .record(z.string(), z.object({ state: z.enum(["closed", "open", "halfOpen"]), lastError: z.string().nullable() }))
      .openapi({ description: "Per feature, as this isolate sees it (breakers are per isolate)" }),
    updatedAt: z.string().nullable(),
  })
  .openapi("AiProvider");

export const AiProviderListSchema = z.object({ providers: z.array(AiProviderSchema) }).openapi("AiProviderList");

const Instant = z.iso.datetime({ offset: true }).openapi({ description: "An ISO 8601 instant" });

export const UsageQuerySchema = z.object({
  from: Instant.optional().openapi({ description: "Start (default: 7 days before `to` by day, 24 hours by hour)" }),
  to: Instant.optional().openapi({ description: "End, exclusive (default: now)" }),
  granularity: z.enum(["hour", "day"]).default("day").openapi({ description: "Buckets; days in `ai.quota.timeZone`" }),
});

const FeatureUse = z.object({ units: z.number().int(), calls: z.number().int() });

export const UsageSchema = z
  .object({
    granularity: z.enum(["hour", "day"]),
    timeZone: z.string(),
    items: z.array(
      z.object({
        start: z.string(),
        units: z.number().int(),
        calls: z.number().int(),
        byFeature: z.record(z.string(), FeatureUse).openapi({ description: "Per feature (chat, moderation, …)" }),
      }),
    ),
    total: FeatureUse,
    trend: z
      .object({
        previousUnits: z.number().int(),
        change: z.number().int(),
        changePercent: z.number().nullable().openapi({ description: "null when the previous period used nothing" }),
      })
      .openapi({ description: "Against the window of the same length just before `from`" }),
  })
  .openapi("AiUsage");

export const AdminUsageQuerySchema = PageQuerySchema.extend({
  from: Instant.optional(),
  to: Instant.optional(),
  userId: z.string().min(1).max(64).optional(),
  feature: z.string().min(1).max(40).optional(),
});

export const AdminUsageItemSchema = z
  .object({
    userId: z.string().nullable().openapi({ description: "null: the tenant's own automatic work" }),
    feature: z.string(),
    units: z.number().int(),
    calls: z.number().int(),
  })
  .openapi("AiUsageTotal");

export const UsageExportQuerySchema = z.object({ from: Instant.optional(), to: Instant.optional() });
