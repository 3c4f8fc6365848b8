import { z } from "@hono/zod-openapi";
import { AmountSchema, MoneySchema } from "../../lib/money";
import { lineText, TagSchema } from "../../lib/text";
import { PageQuerySchema } from "../gateway/http";

/** Schemas of the catalogue (docs/commerce.md, Products). */

export const PRODUCT_KINDS = ["vip", "ai_quota", "content", "currency"] as const;
export type ProductKind = (typeof PRODUCT_KINDS)[number];

/** What one unit of a product grants, by kind. */
export const VipGrantsSchema = z
  .object({ level: z.number().int().min(1).max(100), days: z.number().int().min(1).max(3660) })
  .strict();
export const QuotaGrantsSchema = z.object({ units: z.number().int().min(1).max(1_000_000_000) }).strict();
export const ContentGrantsSchema = z
  .union([z.object({ postId: z.string().min(1).max(64) }).strict(), z.object({ tag: TagSchema }).strict()])
  .openapi({ description: "One post (`postId`) or every post with a tag (`tag`), unlocked for good" });
export const CurrencyGrantsSchema = z
  .object({ amount: AmountSchema, currency: z.string().regex(/^[A-Z]{3,8}$/) })
  .strict()
  .openapi({ description: "An amount of one of the tenant's virtual currencies" });

export const GRANTS_BY_KIND = {
  vip: VipGrantsSchema,
  ai_quota: QuotaGrantsSchema,
  content: ContentGrantsSchema,
  currency: CurrencyGrantsSchema,
} as const;

export type Grants =
  | z.output<typeof VipGrantsSchema>
  | z.output<typeof QuotaGrantsSchema>
  | z.output<typeof ContentGrantsSchema>
  | z.output<typeof CurrencyGrantsSchema>;

const SkuSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, '.', '_' and '-', at most 64")
  .openapi({ example: "vip-gold-30d" });

export const ProductSchema = z
  .object({
    id: z.string(),
    sku: z.string(),
    name: z.string(),
    kind: z.enum(PRODUCT_KINDS),
    price: z.object({ amount: z.number().int(), currency: z.string() }),
    active: z.boolean(),
    grants: z.record(z.string(), z.unknown()).openapi({
      description:
        "vip: `{ level, days }`; ai_quota: `{ units }`; content: `{ postId }` or `{ tag }`; currency: `{ amount, currency }` (virtual)",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Product");

export const ProductCreateSchema = z
  .object({
    sku: SkuSchema,
    name: lineText(120),
    kind: z.enum(PRODUCT_KINDS),
    price: MoneySchema,
    active: z.boolean().default(true),
    grants: z.record(z.string(), z.unknown()),
  })
  .strict()
  .openapi("ProductCreate");

export const ProductPatchSchema = z
  .object({
    sku: SkuSchema.optional(),
    name: lineText(120).optional(),
    price: MoneySchema.optional(),
    active: z.boolean().optional(),
    grants: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .openapi("ProductPatch", { description: "Fields to change; the kind never changes (make another product)" });

export const ProductIdParamSchema = z.object({ id: z.string().min(1).max(64) });

export const ProductListQuerySchema = PageQuerySchema.extend({
  kind: z.enum(PRODUCT_KINDS).optional(),
});

export const AdminProductListQuerySchema = ProductListQuerySchema.extend({
  active: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional()
    .openapi({ description: "Only active or only inactive products (default: both)" }),
});
