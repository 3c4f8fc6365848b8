import { z } from "@hono/zod-openapi";

/**
 * Commerce figures in the daily rollups. Counts are plain metrics (`orders`, `refunds`,
 * `top_ups`); money is one metric per currency (`revenue.CNY`, `refunded.CNY`, `topped_up.USD`)
 * in minor units, since amounts of different currencies never add up. `stats_daily` takes any
 * metric name, so a currency needs no schema change; the report folds the per-currency metrics
 * back into maps (`revenue: { CNY: 1234 }`).
 */

const Id = z.string().min(1).max(128);
const Currency = z.string().regex(/^[A-Z]{3,8}$/);
const Minor = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const OrderData = z.object({ orderId: Id, userId: Id, total: Minor, currency: Currency });
export const PaymentData = z.object({ topUpId: Id, userId: Id, amount: Minor, currency: Currency });

/** The money metrics' prefixes, by the report field that shows them. */
const MONEY = { revenue: "revenue.", refunded: "refunded.", toppedUp: "topped_up." } as const;
type MoneyField = keyof typeof MONEY;

/** The metric of an amount in one currency, e.g. `revenue.CNY`. */
export const moneyMetric = (field: MoneyField, currency: string): string => `${MONEY[field]}${currency}`;

/** Counts and per-currency sums of one period (or a range). */
export interface CommerceFigures {
  orders: number;
  refunds: number;
  topUps: number;
  revenue: Record<string, number>;
  refunded: Record<string, number>;
  toppedUp: Record<string, number>;
}

const COUNTS: Record<string, "orders" | "refunds" | "topUps"> = {
  orders: "orders",
  refunds: "refunds",
  top_ups: "topUps",
};

/** Folds `{ metric, value }` rows into commerce figures; other metrics are ignored. */
export function commerceFigures(rows: readonly { metric: string; value: number }[]): CommerceFigures {
  const out: CommerceFigures = { orders: 0, refunds: 0, topUps: 0, revenue: {}, refunded: {}, toppedUp: {} };
  for (const r of rows) {
    const count = COUNTS[r.metric];
    if (count) {
      out[count] += Number(r.value);
      continue;
    }
    for (const [field, prefix] of Object.entries(MONEY) as [MoneyField, string][]) {
      if (!r.metric.startsWith(prefix)) continue;
      const currency = r.metric.slice(prefix.length);
      out[field][currency] = (out[field][currency] ?? 0) + Number(r.value);
    }
  }
  return out;
}

const n = () => z.number().int();
const perCurrency = (description: string) =>
  z.record(z.string(), n()).openapi({ description, example: { CNY: 129900, USD: 4500 } });

/** The commerce fields of a period, the totals and a tenant's usage (schemas.ts spreads them). */
export const CommerceFields = {
  orders: n().openapi({ description: "Orders paid (order.paid)" }),
  refunds: n().openapi({ description: "Orders refunded (order.refunded)" }),
  topUps: n().openapi({ description: "Wallet top-ups that succeeded (payment.succeeded)" }),
  revenue: perCurrency(
    "Per currency, the totals of orders paid, in minor units (gross: refunds are not taken off; net is revenue − refunded)",
  ),
  refunded: perCurrency("Per currency, the totals of orders refunded in the period, in minor units"),
  toppedUp: perCurrency("Per currency, the amounts of succeeded top-ups, in minor units"),
};
