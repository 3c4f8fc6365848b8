import { z } from "zod";
import type { ConfigPart, SectionsOf } from "../../lib/tenant-config";

/** The most characters a tenant may allow in a post's body (the schema's hard cap). */
export const POST_CHARS_CAP = 100_000;

/** The most documents a tenant may let one search match (the schema's hard cap). */
export const SEARCH_HITS_CAP = 1_000_000;

/**
 * The content service's part of the tenant config: `content.maxPostChars` and `search.maxHits`
 * (docs/content.md).
 */
export const contentConfig = {
  sections: {
    content: z
      .object({
        /** The longest post body, in characters (Markdown source). */
        maxPostChars: z.number().int().min(100).max(POST_CHARS_CAP).default(20_000),
        /** The hot feed's half-life: a post's score halves every this many hours (docs/content.md). */
        hotHalfLifeHours: z
          .number()
          .min(0.25)
          .max(24 * 30)
          .default(12),
      })
      .strict()
      .prefault({}),
    search: z
      .object({
        /** A query matching more documents than this is 400 `query_too_broad` (counted with a LIMIT, never a full scan). */
        maxHits: z.number().int().min(1).max(SEARCH_HITS_CAP).default(10_000),
      })
      .strict()
      .prefault({}),
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof contentConfig> {}
}
