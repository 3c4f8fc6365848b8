import { z } from "zod";
import type { ConfigPart, SectionsOf } from "../../../lib/tenant-config";

/** The tenant's scheduled backups (docs/operations.md, "Backup and restore"). */
export const backupConfig = {
  sections: {
    backup: z
      .object({
        /** A backup every day at `hourUtc`:00 UTC. */
        daily: z.boolean().default(true),
        hourUtc: z.number().int().min(0).max(23).default(3),
        /** Scheduled backups older than this are deleted (the newest finished one is always kept). */
        retentionDays: z.number().int().min(1).max(3650).default(7),
      })
      .strict()
      .prefault({}),
  },
} satisfies ConfigPart;

declare module "../../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof backupConfig> {}
}
