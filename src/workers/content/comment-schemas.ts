import { z } from "@hono/zod-openapi";
import { multilineText } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";

/** The most characters in a comment's body (Markdown source). */
export const COMMENT_CHARS = 5_000;

export const CommentCreateSchema = z
  .object({
    body: multilineText(COMMENT_CHARS).refine((v) => v.trim().length > 0, "must not be empty"),
    parentId: z.string().min(1).max(64).optional().openapi({
      description: "The comment answered; a reply to a reply attaches to its top-level comment",
    }),
  })
  .strict()
  .openapi("CommentCreate");
export type CommentCreate = z.output<typeof CommentCreateSchema>;

const CommentFields = {
  id: z.string(),
  postId: z.string(),
  parentId: z.string().nullable().describe("null for a top-level comment"),
  replyToUserId: z.string().nullable().describe("Whom a reply answers (null for a top-level comment)"),
  authorId: z.string().nullable().describe("null on a tombstone"),
  author: z
    .object({ id: z.string(), nickname: z.string(), avatarUrl: z.string().optional() })
    .nullable()
    .describe("null on a tombstone"),
  body: z.string().describe('Markdown; "" on a tombstone'),
  status: z
    .enum(["published", "under_review", "removed"])
    .describe("under_review: held by the moderation hook, shown to its author and moderators only"),
  deleted: z.boolean().describe("A deleted top-level comment kept as a tombstone for its replies"),
  createdAt: z.string(),
  counts: z.object({ likes: z.number().int(), replies: z.number().int() }),
  viewer: z.object({ liked: z.boolean() }),
};

export const CommentSchema = z.object(CommentFields).openapi("Comment");

export const CommentThreadSchema = z
  .object({
    ...CommentFields,
    replies: z.array(CommentSchema).describe("The first 3 live replies, oldest first"),
  })
  .openapi("CommentThread");

export const CommentIdParamSchema = z.object({ id: z.string().min(1).max(64) });
export const CommentListQuerySchema = PageQuerySchema.extend({
  sort: z.enum(["oldest", "newest", "top"]).default("oldest"),
});
