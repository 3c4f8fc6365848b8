import type { OrderRow } from "../../db/tenant/schema";
import { iso } from "../../lib/time";
import type { PricedOrder } from "./pricing";

/** An order's line as stored in its snapshot and shown to clients. */
export interface OrderLine {
  productId: string;
  sku: string;
  name: string;
  kind: "vip" | "ai_quota" | "content" | "currency";
  quantity: number;
  unitPrice: { amount: number; currency: string };
  discount: { amount: number; currency: string };
  total: { amount: number; currency: string };
  grants: Record<string, unknown>;
}

/** The snapshot of a priced order's lines (what the order keeps whatever the catalogue does later). */
export function linesOf(p: PricedOrder): OrderLine[] {
  const m = (v: bigint) => ({ amount: Number(v), currency: p.currency });
  return p.lines.map((l) => ({
    productId: l.product.id,
    sku: l.product.sku,
    name: l.product.name,
    kind: l.product.kind,
    quantity: l.quantity,
    unitPrice: m(l.unitPrice),
    discount: m(l.discount),
    total: m(l.total),
    grants: JSON.parse(l.product.grants) as Record<string, unknown>,
  }));
}

/** A refund's detail as stored on the order. */
export interface RefundDetail {
  clawedBack: { currency: string; amount: number; shortfall: number }[];
}

/** An order as clients see it. */
export function orderView(o: OrderRow) {
  return {
    id: o.id,
    userId: o.userId,
    status: o.status,
    items: JSON.parse(o.items) as OrderLine[],
    total: { amount: o.total, currency: o.currency },
    createdAt: iso(o.createdAt),
    ...(o.paidAt !== null ? { paidAt: iso(o.paidAt) } : {}),
    ...(o.fulfilledAt !== null ? { fulfilledAt: iso(o.fulfilledAt) } : {}),
    ...(o.refundedAt !== null ? { refundedAt: iso(o.refundedAt) } : {}),
    ...(o.refundedAt !== null
      ? {
          refund: {
            reason: o.refundReason ?? "",
            by: o.refundedBy ?? "",
            clawedBack: (JSON.parse(o.refundDetail ?? '{"clawedBack":[]}') as RefundDetail).clawedBack,
          },
        }
      : {}),
  };
}
