import { z } from "@hono/zod-openapi";
import { lineText, multilineText, TagSchema } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";

/** Schemas of the knowledge base and chat routes (docs/ai.md, Knowledge base and chat). */

const TagsSchema = z
  .array(TagSchema)
  .max(10)
  .transform((tags) => [...new Set(tags)])
  .openapi({ description: "At most 10 tags of at most 32 characters; trimmed, case-folded, deduplicated" });

const ArticleBody = multilineText(50_000).pipe(z.string().min(1));

export const ArticleCreateSchema = z
  .object({ title: lineText(200), body: ArticleBody, tags: TagsSchema.default([]) })
  .strict()
  .openapi("KnowledgeArticleCreate");

export const ArticlePatchSchema = z
  .object({ title: lineText(200).optional(), body: ArticleBody.optional(), tags: TagsSchema.optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "nothing to change")
  .openapi("KnowledgeArticlePatch");

export const ArticleSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    body: z.string(),
    tags: z.array(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("KnowledgeArticle");

export const ArticleIdParamSchema = z.object({ id: z.string().min(1).max(64) });
export const ArticleListQuerySchema = PageQuerySchema;

export const ChatRequestSchema = z
  .object({
    sessionId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: "Continue this session of yours; leave out to start one" }),
    message: multilineText(4_000).pipe(z.string().min(1)),
  })
  .strict()
  .openapi("ChatRequest");

export const SourceSchema = z.object({ id: z.string(), title: z.string() }).openapi("ChatSource");

export const ChatSessionSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    status: z.enum(["open", "handed_off"]),
    conversationId: z.string().nullable().openapi({ description: "The support conversation, once handed off" }),
    createdAt: z.string(),
    lastMessageAt: z.string(),
  })
  .openapi("ChatSession");

export const ChatMessageSchema = z
  .object({
    id: z.string(),
    role: z.enum(["user", "assistant"]),
    content: z.string(),
    status: z.enum(["complete", "partial", "error"]).openapi({
      description: "`partial`: the stream stopped (client abort or provider failure) after this much",
    }),
    degraded: z.boolean(),
    sources: z.array(SourceSchema),
    units: z.number().int(),
    createdAt: z.string(),
  })
  .openapi("ChatMessage");

export const ChatSessionDetailSchema = z
  .object({ session: ChatSessionSchema, messages: z.array(ChatMessageSchema) })
  .openapi("ChatSessionDetail");

export const SessionIdParamSchema = z.object({ sessionId: z.string().min(1).max(64) });
export const SessionListQuerySchema = PageQuerySchema;

export const HandoffSchema = z.object({ sessionId: z.string(), conversationId: z.string() }).openapi("ChatHandoff");

/** What `event: done` carries (documented in the route's description; the frames are text). */
export interface DoneFrame {
  sessionId: string;
  usage: { units: number; inputTokens: number; outputTokens: number };
  sources: { id: string; title: string }[];
  answered: boolean;
  degraded?: true;
  handoff?: { path: string };
}
