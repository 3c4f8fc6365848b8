import { z } from "@hono/zod-openapi";
import { lineText, multilineText } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";
import { POST_CHARS_CAP } from "./config";

const VISIBILITIES = ["public", "followers", "friends", "private"] as const;
const STATUSES = ["draft", "published"] as const;

/**
 * Tags: at most 10 of at most 32 characters, trimmed and case-folded (lowercase after NFKC, so
 * "Cats", " cats " and "ＣＡＴＳ" are one tag), duplicates dropped.
 */
const TagSchema = lineText(32).transform((t) => t.normalize("NFKC").toLowerCase());
const TagsSchema = z
  .array(TagSchema)
  .max(10)
  .transform((tags) => [...new Set(tags)])
  .refine((tags) => tags.every((t) => t.length <= 32), "a tag is at most 32 characters")
  .openapi({ description: "At most 10 tags of at most 32 characters; trimmed, case-folded, deduplicated" });

const MediaSchema = z
  .array(z.string().min(1).max(64))
  .max(20)
  .transform((ids) => [...new Set(ids)])
  .openapi({ description: "Ids of the author's own finished uploads (at most 20)" });

const fields = {
  title: lineText(200, 0),
  // The tenant's `content.maxPostChars` applies below this cap (checked by the route).
  body: multilineText(POST_CHARS_CAP).refine((v) => v.length > 0, "must not be empty"),
  tags: TagsSchema,
  mediaFileIds: MediaSchema,
  visibility: z.enum(VISIBILITIES),
  status: z.enum(STATUSES),
};

export const PostCreateSchema = z
  .object({
    title: fields.title.optional(),
    body: fields.body,
    tags: fields.tags.optional(),
    mediaFileIds: fields.mediaFileIds.optional(),
    visibility: fields.visibility.default("public"),
    status: fields.status.default("published"),
  })
  .strict()
  .openapi("PostCreate");
export type PostCreate = z.output<typeof PostCreateSchema>;

export const PostPatchSchema = z
  .object({
    title: fields.title.optional(),
    body: fields.body.optional(),
    tags: fields.tags.optional(),
    mediaFileIds: fields.mediaFileIds.optional(),
    visibility: fields.visibility.optional(),
    status: fields.status.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "nothing to update")
  .openapi("PostPatch");
export type PostPatch = z.output<typeof PostPatchSchema>;

export const PostSchema = z
  .object({
    id: z.string(),
    authorId: z.string(),
    author: z.object({ id: z.string(), nickname: z.string(), avatarUrl: z.string().optional() }).openapi("PostAuthor"),
    title: z.string(),
    body: z.string().describe("Markdown"),
    tags: z.array(z.string()),
    media: z.array(z.object({ fileId: z.string(), url: z.string() })),
    visibility: z.enum(VISIBILITIES),
    status: z.enum(["draft", "published", "removed", "under_review"]),
    createdAt: z.string(),
    updatedAt: z.string(),
    editedAt: z.string().nullable(),
    publishedAt: z.string().nullable(),
    counts: z.object({
      likes: z.number().int(),
      comments: z.number().int(),
      bookmarks: z.number().int(),
      views: z.number().int().describe("At most one per viewer per hour (POST /v1/posts/{id}/views)"),
    }),
    viewer: z.object({ liked: z.boolean(), bookmarked: z.boolean() }),
  })
  .openapi("Post");

export const PostIdParamSchema = z.object({ id: z.string().min(1).max(64) });
export const MyPostsQuerySchema = PageQuerySchema.extend({ status: z.enum(STATUSES).optional() });

export const PostLikerSchema = z
  .object({ userId: z.string(), nickname: z.string(), likedAt: z.string() })
  .openapi("PostLiker");

/** `/v1/tags/{tag}/posts`: the tag normalised as posts' tags are ("Cats" finds "cats"). */
export const TagParamSchema = z.object({ tag: TagSchema });

export const PostViewsSchema = z
  .object({
    postId: z.string(),
    views: z.number().int().describe("The post's view count after this call"),
    counted: z
      .boolean()
      .describe("Whether this view counted (at most one per viewer per post per hour; never the author's)"),
  })
  .openapi("PostViews");
