import { z } from "zod";
import type { ConfigPart, SectionsOf } from "../../lib/tenant-config";
import { emailSection } from "../mail/config";

/** The auth service's part of the tenant config: sessions, sign-in throttling, sign-in methods, emails. */
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
        /** How long a link or code sent by email stays good (verification, reset, sign-in code). */
        emailTokenMinutes: z.number().int().min(5).max(1440).default(15),
        /** Wrong emailed codes per account (reset, sign-in, verification) within the lockout window. */
        maxEmailCodeFailures: z.number().int().min(1).max(100).default(5),
        /** Password resets and sign-in codes one address may ask for within an hour (per account and per client address). */
        emailRequestsPerHour: z.number().int().min(1).max(1000).default(5),
      })
      .strict()
      .prefault({}),
    signIn: z
      .object({
        password: z.boolean().default(true),
        username: z.boolean().default(true),
        email: z.boolean().default(true),
        registration: z.enum(["open", "closed"]).default("open"),
        /**
         * Whether an account's email must be proven: `off` (no verification email), `optional`
         * (sent; unverified accounts still sign in), `required` (unverified accounts cannot sign in).
         */
        emailVerification: z.enum(["off", "optional", "required"]).default("optional"),
        /** Passwordless sign-in with a code sent by email. */
        emailCode: z.boolean().default(false),
        /**
         * The tenant's app, where emailed links point (`<appUrl>/reset-password?token=…`); never
         * a host the request named. Unset: the tenant's API origin, which serves minimal pages.
         */
        appUrl: z
          .url({ protocol: /^https?$/ })
          .max(500)
          .refine((u) => !u.includes("?") && !u.includes("#"), "must have no query or fragment")
          .optional(),
      })
      .strict()
      .prefault({}),
    /** The tenant's emails: brand colour, sender name, template overrides (docs/mail-templates.md). */
    email: emailSection,
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof authConfig> {}
}
