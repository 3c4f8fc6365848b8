import { z } from "@hono/zod-openapi";
import { multilineText } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";

export const REPORT_REASONS = [
  "spam",
  "harassment",
  "hate",
  "violence",
  "sexual",
  "self_harm",
  "misinformation",
  "other",
] as const;

export const ReportCreateSchema = z
  .object({
    reason: z.enum(REPORT_REASONS),
    detail: multilineText(1000).optional().openapi({ description: "At most 1,000 characters" }),
  })
  .strict()
  .openapi("ReportCreate");

export const ReportSchema = z
  .object({
    id: z.string(),
    targetType: z.enum(["post", "comment"]),
    targetId: z.string(),
    postId: z.string().describe("The post itself, or the post the comment is on"),
    reporterId: z.string(),
    reason: z.enum(REPORT_REASONS),
    detail: z.string(),
    status: z.enum(["open", "dismissed", "actioned"]),
    createdAt: z.string(),
    resolvedAt: z.string().nullable(),
    resolvedBy: z.string().nullable(),
  })
  .openapi("Report");

export const ReportQuerySchema = PageQuerySchema.extend({
  status: z.enum(["open", "resolved"]).default("open"),
});

export const ResolveSchema = z
  .object({ action: z.enum(["dismiss", "remove"]) })
  .strict()
  .openapi("ReportResolve");

export const ReportIdParamSchema = z.object({ id: z.string().min(1).max(64) });

export const HeldPostsQuerySchema = PageQuerySchema.extend({
  status: z.enum(["under_review", "removed"]).default("under_review"),
});
