import { z } from "@hono/zod-openapi";
import { PageQuerySchema } from "../gateway/http";
import { PRODUCT_KINDS } from "./product-schemas";

/** Schemas of orders (docs/commerce.md, Orders). */

const MoneyOut = z.object({ amount: z.number().int(), currency: z.string() });

export const OrderCreateSchema = z
  .object({
    items: z
      .array(
        z
          .object({
            productId: z.string().min(1).max(64),
            quantity: z.number().int().min(1).max(100).default(1),
          })
          .strict(),
      )
      .min(1)
      .max(20)
      .refine((items) => new Set(items.map((i) => i.productId)).size === items.length, "must not repeat a product"),
    pay: z
      .literal("wallet")
      .default("wallet")
      .openapi({ description: "How to pay: from the wallet (the only way today)" }),
  })
  .strict()
  .openapi("OrderCreate");

export const OrderItemSchema = z.object({
  productId: z.string(),
  sku: z.string(),
  name: z.string(),
  kind: z.enum(PRODUCT_KINDS),
  quantity: z.number().int(),
  unitPrice: MoneyOut,
  discount: MoneyOut.openapi({ description: "Taken off this line (VIP discount), rounded down" }),
  total: MoneyOut,
  grants: z.record(z.string(), z.unknown()),
});

export const OrderSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    status: z.enum(["pending", "paid", "fulfilled", "cancelled", "refunded"]),
    items: z.array(OrderItemSchema),
    total: MoneyOut,
    createdAt: z.string(),
    paidAt: z.string().optional(),
    fulfilledAt: z.string().optional(),
    refundedAt: z.string().optional(),
    refund: z
      .object({
        reason: z.string(),
        by: z.string(),
        clawedBack: z.array(z.object({ currency: z.string(), amount: z.number().int(), shortfall: z.number().int() })),
      })
      .optional(),
  })
  .openapi("Order");

export const OrderIdParamSchema = z.object({ id: z.string().min(1).max(64) });

export const AdminOrderListQuerySchema = PageQuerySchema.extend({
  userId: z.string().min(1).max(64).optional(),
  status: z.enum(["pending", "paid", "fulfilled", "cancelled", "refunded"]).optional(),
});

export const RefundSchema = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .regex(/^[^\u0000-\u001f\u007f]*$/, "must be one line of text"),
  })
  .strict()
  .openapi("OrderRefund");
