import { z } from "zod";
import type { ConfigPart, LimitsOf } from "../../lib/tenant-config";

/** The files service's limit in the tenant config. */
export const filesConfig = {
  limits: {
    maxUploadBytes: z
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(10 * 1024 * 1024),
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantLimits extends LimitsOf<typeof filesConfig> {}
}
