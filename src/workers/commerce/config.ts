import { z } from "zod";
import { isIsoCurrency } from "../../lib/money";
import type { ConfigPart, SectionsOf } from "../../lib/tenant-config";

/** A tenant-defined currency that exists only in Canopy (coins, gems): never topped up with real money. */
const VirtualCurrencySchema = z
  .object({
    code: z
      .string()
      .regex(/^[A-Z]{3,8}$/, "must be 3 to 8 upper-case letters")
      .refine((c) => !isIsoCurrency(c), "must not be an ISO 4217 code"),
    /** Decimal places of display (0 for whole coins); amounts are always integers of the smallest unit. */
    exponent: z.number().int().min(0).max(4).default(0),
    name: z.string().min(1).max(60),
  })
  .strict();

/** What a VIP level gives its members (docs/commerce.md, VIP). */
const BenefitsSchema = z
  .object({
    /** Extra AI quota, in percent of the plan's (the AI service applies it). */
    aiQuotaBonusPercent: z.number().int().min(0).max(1000).default(0),
    /** Off orders of products other than VIP memberships, rounded down per line. */
    discountPercent: z.number().int().min(0).max(90).default(0),
    /** A short label clients show beside the member's name. */
    badge: z.string().min(1).max(32).nullable().default(null),
    /** Posts marked `vip` with a `minVipLevel` at or below this level are readable. */
    contentAccess: z.boolean().default(true),
    /** The largest upload a member may make (null: the tenant's limit). */
    maxUploadBytes: z.number().int().min(1).max(5_368_709_120).nullable().default(null),
  })
  .strict();

const VipLevelSchema = z
  .object({
    level: z.number().int().min(1).max(100),
    name: z.string().min(1).max(40),
    benefits: BenefitsSchema.prefault({}),
  })
  .strict();

/** The default levels: silver, gold and diamond. */
const DEFAULT_LEVELS = [
  { level: 1, name: "silver", benefits: { badge: "silver", aiQuotaBonusPercent: 10, discountPercent: 5 } },
  { level: 2, name: "gold", benefits: { badge: "gold", aiQuotaBonusPercent: 25, discountPercent: 10 } },
  { level: 3, name: "diamond", benefits: { badge: "diamond", aiQuotaBonusPercent: 50, discountPercent: 15 } },
];

/**
 * The commerce service's part of the tenant config (docs/commerce.md): which real currencies
 * wallets and prices may use, the tenant's virtual currencies, and the VIP levels.
 */
export const commerceConfig = {
  sections: {
    commerce: z
      .object({
        /** ISO 4217 codes wallets may be topped up and products priced in. */
        currencies: z
          .array(z.string().refine(isIsoCurrency, "must be an ISO 4217 currency code"))
          .min(1)
          .max(20)
          .refine((l) => new Set(l).size === l.length, "must not repeat a currency")
          .default(["CNY", "USD"]),
        virtualCurrencies: z
          .array(VirtualCurrencySchema)
          .max(10)
          .refine((l) => new Set(l.map((v) => v.code)).size === l.length, "must not repeat a code")
          .default([]),
      })
      .strict()
      .prefault({}),
    vip: z
      .object({
        /** Membership levels, ascending, each with its benefits. */
        levels: z
          .array(VipLevelSchema)
          .min(1)
          .max(20)
          .refine((l) => l.every((x, i) => i === 0 || x.level > l[i - 1]!.level), "levels must be ascending and unique")
          .prefault(DEFAULT_LEVELS),
      })
      .strict()
      .prefault({}),
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof commerceConfig> {}
}
