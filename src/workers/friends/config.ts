import { z } from "zod";
import type { ConfigPart, LimitsOf } from "../../lib/tenant-config";

/** The friend graph's limits in the tenant config. */
export const friendsConfig = {
  limits: {
    maxFriends: z.number().int().min(1).max(100_000).default(5000),
    /** Pending friend requests a user may have outgoing, and incoming. */
    maxPendingRequests: z.number().int().min(1).max(10_000).default(200),
    friendRequestTtlDays: z.number().int().min(1).max(365).default(30),
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantLimits extends LimitsOf<typeof friendsConfig> {}
}
