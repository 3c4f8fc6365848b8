import { z } from "@hono/zod-openapi";
import { lineText, multilineText, TagSchema } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";
import { POST_CHARS_CAP } from "./config";

const VISIBILITIES = ["public", "followers", "friends", "private", "vip"] as const;

/** `vip` needs `minVipLevel`, and `minVipLevel` goes only with `vip`. */
const vipPaired = (v: { visibility?: string | undefined; minVipLevel?: number | undefined }) =>
  (v.visibility === "vip") === (v.minVipLevel !== undefined);
const VIP_PAIRED = { message: "minVipLevel is required with visibility vip, and only with it", path: ["minVipLevel"] };
const STATUSES = ["draft", "published"] as const;

/** Tags: at most 10 (src/lib/text.ts TagSchema), duplicates dropped. */
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
  minVipLevel: z
    .number()
    .int()
    .min(1)
    .max(100)
    .openapi({ description: "With visibility vip: the VIP level that reads the body, media and comments" }),
  status: z.enum(STATUSES),
};

export const PostCreateSchema = z
  .object({
    title: fields.title.optional(),
    body: fields.body,
    tags: fields.tags.optional(),
    mediaFileIds: fields.mediaFileIds.optional(),
    visibility: fields.visibility.default("public"),
    minVipLevel: fields.minVipLevel.optional(),
    status: fields.status.default("published"),
  })
  .strict()
  .refine(vipPaired, VIP_PAIRED)
  .openapi("PostCreate");
export type PostCreate = z.output<typeof PostCreateSchema>;

export const PostPatchSchema = z
  .object({
    title: fields.title.optional(),
    body: fields.body.optional(),
    tags: fields.tags.optional(),
    mediaFileIds: fields.mediaFileIds.optional(),
    visibility: fields.visibility.optional(),
    minVipLevel: fields.minVipLevel.optional(),
    status: fields.status.optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, "nothing to update")
  .refine((v) => (v.visibility === undefined ? v.minVipLevel === undefined : vipPaired(v)), VIP_PAIRED)
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
    minVipLevel: z.number().int().optional().openapi({ description: "Only on a vip post" }),
    locked: z.boolean().openapi({
      description: "A vip post the viewer may not read: title, tags and counts only (body empty, no media)",
    }),
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
