import { z } from "@hono/zod-openapi";
import { lineText } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";
import { CommentSchema } from "./comment-schemas";
import { PostSchema } from "./schemas";

/** The longest search text, in characters (after trimming). */
export const MAX_SEARCH_CHARS = 200;

const instant = z.string().datetime({ offset: true }).openapi({ description: "ISO 8601 date-time" });

export const SearchQuerySchema = PageQuerySchema.extend({
  q: lineText(MAX_SEARCH_CHARS).openapi({
    description: `The search text, 1–${MAX_SEARCH_CHARS} characters; words match by prefix, CJK text by substring`,
  }),
  type: z.enum(["posts", "comments", "users"]).default("posts"),
  tag: lineText(32)
    .transform((t) => t.normalize("NFKC").toLowerCase())
    .optional()
    .openapi({ description: "Only posts with this tag (case-folded like tags are)" }),
  authorId: z.string().min(1).max(64).optional().openapi({ description: "Only posts by this user" }),
  from: instant.optional().openapi({ description: "Only posts published at or after this time" }),
  to: instant.optional().openapi({ description: "Only posts published before this time" }),
  sort: z.enum(["relevance", "recent"]).default("relevance"),
});
export type SearchQuery = z.output<typeof SearchQuerySchema>;

/** A user as GET /v1/users answers it. */
const SearchUserSchema = z
  .object({
    id: z.string(),
    username: z.string().nullable(),
    nickname: z.string(),
    avatarFileId: z.string().nullable(),
    bio: z.string(),
    locale: z.string(),
    region: z.string(),
  })
  .openapi("SearchUser");

export const SearchHitSchema = z
  .object({
    type: z.enum(["post", "comment", "user"]),
    id: z.string(),
    score: z.number().describe("Higher is better: -bm25 for posts and comments; 2 (prefix) or 1 (substring) for users"),
    snippet: z.string().describe("HTML: matches in <mark>…</mark>, everything else escaped"),
    post: PostSchema.optional(),
    comment: CommentSchema.optional(),
    user: SearchUserSchema.optional(),
  })
  .openapi("SearchHit");

export const SearchStatusSchema = z
  .object({
    documents: z.number().int().describe("Documents (posts and comments) in the index"),
    rows: z
      .number()
      .int()
      .describe(
        "Rows that should be in it: published, undeleted posts and live, published comments of undeleted posts",
      ),
    lastRebuildAt: z.string().nullable(),
    rebuilding: z.boolean(),
  })
  .openapi("SearchStatus");
