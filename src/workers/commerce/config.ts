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

/**
 * The commerce service's part of the tenant config (docs/commerce.md): which real currencies
 * wallets and prices may use, and the tenant's virtual currencies.
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
  },
} satisfies ConfigPart;

declare module "../../lib/tenant-config" {
  interface TenantConfig extends SectionsOf<typeof commerceConfig> {}
}
