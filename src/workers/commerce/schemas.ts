import { z } from "@hono/zod-openapi";
import { AmountSchema, CurrencyCodeSchema } from "../../lib/money";
import { PageQuerySchema } from "../gateway/http";

/** Schemas of the wallet and the ledger's reports (docs/commerce.md). */

export const WalletSchema = z
  .object({
    balances: z.array(
      z.object({
        currency: z.string(),
        available: z.number().int().openapi({ description: "Minor units" }),
      }),
    ),
  })
  .openapi("Wallet");

export const WalletEntrySchema = z
  .object({
    id: z.string(),
    transactionId: z.string(),
    kind: z.enum(["top_up", "order", "refund", "grant", "adjustment", "clawback"]),
    amount: z.number().int().openapi({ description: "Minor units; negative for a debit" }),
    currency: z.string(),
    balanceAfter: z.number().int(),
    createdAt: z.string(),
    orderId: z.string().optional(),
  })
  .openapi("WalletEntry");

export const WalletEntriesQuerySchema = PageQuerySchema.extend({
  currency: CurrencyCodeSchema.optional().openapi({ description: "Only this currency's entries" }),
});

const SystemAccountsSchema = z.object({
  payments_clearing: z.number().int(),
  revenue: z.number().int(),
  refunds: z.number().int(),
  promotions: z.number().int(),
});

export const ReconciliationSchema = z
  .object({
    currencies: z.array(
      z.object({
        currency: z.string(),
        entriesSum: z
          .number()
          .int()
          .openapi({ description: "The sum of every entry in the currency: 0 in a whole ledger" }),
        userBalances: z.number().int(),
        systemAccounts: SystemAccountsSchema,
      }),
    ),
    inconsistencies: z.array(z.object({ kind: z.string(), id: z.string(), detail: z.string() })),
    checkedAt: z.string(),
  })
  .openapi("LedgerReconciliation");

export const ProviderNameSchema = z.enum(["stripe", "sandbox"]);

export const TopUpCreateSchema = z
  .object({
    amount: AmountSchema,
    currency: CurrencyCodeSchema,
    provider: ProviderNameSchema.optional().openapi({ description: "Defaults to the tenant's active provider" }),
  })
  .strict()
  .openapi("TopUpCreate");

const CheckoutSchema = z
  .union([
    z.object({ type: z.literal("sandbox"), completeUrl: z.string(), failUrl: z.string() }),
    z.object({ type: z.literal("client_secret"), clientSecret: z.string(), publishableKey: z.string().nullable() }),
  ])
  .openapi("Checkout", {
    description:
      "What the client needs to pay: the sandbox's complete/fail links (POST, signed in), or a Stripe PaymentIntent's client secret for Stripe.js or a mobile SDK.",
  });

export const TopUpSchema = z
  .object({
    id: z.string(),
    status: z.enum(["pending", "succeeded", "failed"]),
    provider: ProviderNameSchema,
    amount: z.number().int(),
    currency: z.string(),
    checkout: CheckoutSchema.nullable(),
    failure: z.string().nullable(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .openapi("TopUp");

export const TopUpIdParamSchema = z.object({ id: z.string().min(1).max(64) });

export const WebhookResultSchema = z
  .object({
    received: z.literal(true),
    result: z.enum(["credited", "failed", "duplicate", "ignored"]).openapi({
      description:
        "credited: the wallet got the money now; failed: the top-up failed now; duplicate: nothing changed (a redelivery, or the top-up was already final); ignored: an event type Canopy does not act on",
    }),
  })
  .openapi("PaymentWebhookResult");

export const SandboxResultSchema = z
  .object({
    delivered: z
      .number()
      .int()
      .openapi({ description: "The HTTP status the signed webhook got from the webhook route" }),
    topUp: TopUpSchema,
  })
  .openapi("SandboxDelivery");

export const ProviderPutSchema = z
  .object({
    active: z.boolean().optional().openapi({ description: "Make this the provider new top-ups use" }),
    secretKey: z
      .string()
      .regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]{8,200}$/, "must be a Stripe secret or restricted key")
      .optional(),
    webhookSecret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/=]{16,200}$/, "must be a webhook signing secret (whsec_…)")
      .optional(),
    publishableKey: z
      .string()
      .regex(/^pk_(test|live)_[A-Za-z0-9]{8,200}$/, "must be a Stripe publishable key")
      .optional(),
  })
  .strict()
  .openapi("PaymentProviderPut");

export const ProviderSchema = z
  .object({
    provider: ProviderNameSchema,
    active: z.boolean(),
    configured: z.object({ secretKey: z.boolean(), webhookSecret: z.boolean(), publishableKey: z.boolean() }),
    publishableKey: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .openapi("PaymentProvider");

export const ProviderListSchema = z
  .object({
    active: ProviderNameSchema.nullable().openapi({
      description: "The provider top-ups use (the sandbox by default outside production; null when none)",
    }),
    providers: z.array(ProviderSchema),
  })
  .openapi("PaymentProviders");
