import type { ProductRow } from "../../db/tenant/schema";
import { AppError } from "../../lib/errors";
import { MAX_TOTAL } from "../../lib/money";

/**
 * Prices an order's lines (pure, bigint): unit price × quantity, less the buyer's VIP discount
 * on products other than VIP memberships, rounded down per line in the buyer's favour (docs/commerce.md).
 */
export interface PricedLine {
  product: ProductRow;
  quantity: number;
  unitPrice: bigint;
  discount: bigint;
  total: bigint;
}

export interface PricedOrder {
  currency: string;
  lines: PricedLine[];
  total: bigint;
}

export function priceOrder(
  items: { productId: string; quantity: number }[],
  byId: Map<string, ProductRow>,
  discountPercent: number,
): PricedOrder {
  const lines: PricedLine[] = [];
  for (const item of items) {
    const product = byId.get(item.productId);
    if (!product) throw new AppError("product_not_found", `No such product: ${item.productId}.`);
    if (!product.active) throw new AppError("product_unavailable", `The product ${product.sku} is not for sale.`);
    if (product.kind === "content" && item.quantity !== 1) {
      throw new AppError("validation_failed", "Invalid body: a content product is bought once (quantity 1).", {
        errors: [{ path: "items.quantity", message: "must be 1 for a content product" }],
      });
    }
    const unitPrice = BigInt(product.priceAmount);
    const gross = unitPrice * BigInt(item.quantity);
    const percent = product.kind === "vip" ? 0n : BigInt(discountPercent);
    const discount = (gross * percent) / 100n;
    lines.push({ product, quantity: item.quantity, unitPrice, discount, total: gross - discount });
  }
  const currencies = new Set(lines.map((l) => l.product.priceCurrency));
  if (currencies.size > 1) {
    throw new AppError("currency_mismatch", "An order's products must all be priced in one currency.");
  }
  const total = lines.reduce((sum, l) => sum + l.total, 0n);
  if (total > MAX_TOTAL) {
    throw new AppError("validation_failed", "Invalid body: the order's total is over the limit.", {
      errors: [{ path: "items", message: `total must be at most ${MAX_TOTAL} minor units` }],
    });
  }
  return { currency: lines[0]!.product.priceCurrency, lines, total };
}
