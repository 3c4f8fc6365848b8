import { z } from "@hono/zod-openapi";
import { CurrencyCodeSchema } from "../../lib/money";
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
