import { z } from "zod";
import type { ConfigPart, SectionsOf } from "../../lib/tenant-config";

/** The auth service's part of the tenant config: sessions, sign-in throttling, sign-in methods. */
export const authConfig = {
  sections: {
    session: z
      .object({
        accessTokenTtlSeconds: z.number().int().min(60).max(86_400).default(600),
        refreshIdleDays: z.number().int().min(1).max(365).default(30),
        refreshAbsoluteDays: z.number().int().min(1).max(730).default(90),
        /** Most live sessions per user, and per platform (e.g. { ios: 1, desktop: 1 } like IM apps). */
        maxSessions: z.number().int().min(1).max(100).default(10),
        perPlatform: z.record(z.string().regex(/^[a-z0-9_-]{1,32}$/), z.number().int().min(1).max(100)).default({}),
        overflow: z.enum(["evict_oldest", "refuse"]).default("evict_oldest"),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /**
         * Failed sign-ins per account from one client address (or on one trusted device) within
         * the lockout window before that pair is locked out; other addresses are not.
         */
        maxFailures: z.number().int().min(1).max(100).default(5),
        /**
         * Failed sign-ins per account per minute from untrusted devices, all addresses together:
         * the slower global backoff (Retry-After under a minute), never a long lockout.
         */
        accountFailuresPerMinute: z.number().int().min(1).max(1000).default(10),
        /** How long a device that signed in stays trusted (its deviceToken), so failures elsewhere never lock it out. */
        deviceTrustDays: z.number().int().min(1).max(365).default(90),
        /** Failed sign-ins per client address within the window. */
        maxFailuresPerAddress: z.number().int().min(1).max(10_000).default(50),
        lockoutSeconds: z.number().int().min(10).max(86_400).default(900),
        /** Failed MFA codes per account within the lockout window. */
        maxMfaFailures: z.number().int().min(1).max(100).default(5),
      })
      .strict()
      .prefault({}),
    signIn: z
      .object({
        password: z.boolean().default(true),
        username: z.boolean().default(true),
        email: z.boolean().default(true),
        registration: z.enum(["open", "closed"]).default("open"),
      })
      .strict()
      .prefault({}),
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof authConfig> {}
}
