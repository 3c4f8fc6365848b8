import { z } from "@hono/zod-openapi";
import { multilineText } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";

/** Schemas of the moderation review queue and appeals (docs/ai.md, Moderation). */

const TargetTypeSchema = z.enum(["post", "comment", "message", "nickname", "bio"]);

export const ModerationItemSchema = z
  .object({
    id: z.string(),
    targetType: TargetTypeSchema,
    targetId: z.string(),
    conversationId: z.string().nullable(),
    authorId: z.string(),
    excerpt: z.string().openapi({ description: "The first 280 characters of the text" }),
    autoDecision: z.enum(["review", "block"]),
    categories: z.array(z.string()),
    scores: z.record(z.string(), z.number()),
    provider: z.string().openapi({ description: "`wordlist`, or the classifier that scored it" }),
    degraded: z.boolean().openapi({ description: "Held because the classifier was unavailable" }),
    status: z.enum(["open", "allowed", "blocked"]),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    note: z.string().nullable(),
    appeal: z.object({ status: z.enum(["open", "upheld", "overturned"]), text: z.string(), at: z.string() }).nullable(),
    createdAt: z.string(),
  })
  .openapi("ModerationItem");

export const QueueQuerySchema = PageQuerySchema.extend({
  status: z.enum(["open", "decided"]).default("open").openapi({
    description: "`open`: items to review and open appeals, oldest first; `decided`: newest decision first",
  }),
  type: TargetTypeSchema.optional(),
});

export const ItemIdParamSchema = z.object({ id: z.string().min(1).max(64) });

export const DecisionSchema = z
  .object({ decision: z.enum(["allow", "block"]), note: multilineText(1000).optional() })
  .strict()
  .openapi("ModerationDecision");

export const AppealSchema = z
  .object({ text: multilineText(1000).pipe(z.string().min(1)) })
  .strict()
  .openapi("ModerationAppeal");
