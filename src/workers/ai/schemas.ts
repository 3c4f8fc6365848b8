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
