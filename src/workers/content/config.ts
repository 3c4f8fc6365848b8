import { z } from "zod";
import type { ConfigPart, SectionsOf } from "../../lib/tenant-config";

/** The most characters a tenant may allow in a post's body (the schema's hard cap). */
export const POST_CHARS_CAP = 100_000;

/** The content service's part of the tenant config: `content.maxPostChars` (docs/content.md). */
export const contentConfig = {
  sections: {
    content: z
      .object({
        /** The longest post body, in characters (Markdown source). */
        maxPostChars: z.number().int().min(100).max(POST_CHARS_CAP).default(20_000),
      })
      .strict()
      .prefault({}),
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof contentConfig> {}
}
