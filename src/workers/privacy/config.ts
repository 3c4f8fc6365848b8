import { z } from "zod";
import type { ConfigPart, SectionsOf } from "../../lib/tenant-config";

const days = z.number().int().min(0).max(3650);

/** What deletion and erasure do for a tenant, and how long records are kept (docs/privacy.md). */
export const privacyConfig = {
  sections: {
    privacy: z
      .object({
        /** Hours between `DELETE /v1/me` and the erasure; 0 erases at once. */
        deletionGraceHours: z
          .number()
          .int()
          .min(0)
          .max(24 * 90)
          .default(72),
        /** Messages the user sent: bodies removed (`anonymize`) or kept as they are. */
        messagesOnErasure: z.enum(["anonymize", "keep"]).default("anonymize"),
        /** Posts, comments, likes and bookmarks: removed (`delete`) or kept under a deleted user. */
        contentOnErasure: z.enum(["delete", "anonymize"]).default("delete"),
      })
      .strict()
      .prefault({}),
    /** How long records are kept, in days (0: forever); an hourly sweep removes older ones. */
    retention: z
      .object({
        messagesDays: days.default(0),
        notificationsDays: days.default(0),
        /** Attachments (avatars are kept while the account lives). */
        filesDays: days.default(0),
      })
      .strict()
      .prefault({}),
    audit: z
      .object({ retentionDays: z.number().int().min(1).max(3650).default(365) })
      .strict()
      .prefault({}),
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof privacyConfig> {}
}
