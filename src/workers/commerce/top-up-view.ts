import type { TopUpRow } from "../../db/tenant/schema";
import type { Checkout } from "../../lib/payments/provider";
import { iso, isoOrNull } from "../../lib/time";

/** A top-up as clients see it (docs/commerce.md). */
export function topUpView(t: TopUpRow) {
  return {
    id: t.id,
    status: t.status,
    provider: t.provider,
    amount: t.amount,
    currency: t.currency,
    checkout: t.checkout ? (JSON.parse(t.checkout) as Checkout) : null,
    failure: t.failure,
    createdAt: iso(t.createdAt),
    completedAt: isoOrNull(t.completedAt),
  };
}

/** The tenant API's base URL as this request reached it (checkout links point back at it). */
export const apiBaseOf = (url: string): string => `${new URL(url).origin}/v1`;
