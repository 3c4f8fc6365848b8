import { findPost } from "../../db/tenant/posts";
import type { ProductRow } from "../../db/tenant/schema";
import { AppError } from "../../lib/errors";
import { iso } from "../../lib/time";
import type { TenantScope } from "../gateway/context";
import { fieldIssues } from "../gateway/http";
import { currencyKind } from "./currencies";
import { GRANTS_BY_KIND, type Grants, type ProductKind } from "./product-schemas";

/** The catalogue's rules (docs/commerce.md, Products): what a product of each kind may grant. */

const invalid = (path: string, message: string) =>
  new AppError("validation_failed", `Invalid body: ${path} ${message}`, { errors: [{ path, message }] });

/**
 * Checks a product's price and grants against its kind and the tenant: the price in an enabled
 * currency; a VIP level that exists; a live, published post; a virtual currency other than the
 * price's. Answers the grants as stored (normalised by their schema).
 */
export async function checkProduct(
  s: TenantScope,
  kind: ProductKind,
  price: { amount: number; currency: string },
  rawGrants: unknown,
): Promise<Grants> {
  currencyKind(s.tenant.config, price.currency);
  const parsed = GRANTS_BY_KIND[kind].safeParse(rawGrants);
  if (!parsed.success) {
    const [first] = fieldIssues(parsed.error);
    throw invalid(
      `grants.${first?.path ?? ""}`.replace(/\.\(root\)$|\.$/, ""),
      first?.message ?? "do not fit the kind",
    );
  }
  const grants = parsed.data as Grants;
  if (kind === "vip" && "level" in grants) {
    if (!s.tenant.config.vip.levels.some((l) => l.level === grants.level)) {
      throw invalid("grants.level", "is not one of the tenant's VIP levels (vip.levels)");
    }
  }
  if (kind === "content" && "postId" in grants) {
    const post = await findPost(s.db, grants.postId);
    if (!post || post.deletedAt !== null || post.status !== "published") {
      throw invalid("grants.postId", "must be a published post");
    }
  }
  if (kind === "currency" && "currency" in grants && "amount" in grants) {
    if (currencyKind(s.tenant.config, grants.currency) !== "virtual") {
      throw invalid("grants.currency", "must be one of the tenant's virtual currencies");
    }
    if (grants.currency === price.currency) {
      throw new AppError("currency_mismatch", "A currency product cannot be priced in the currency it grants.");
    }
  }
  return grants;
}

/** A product as clients see it. */
export function productView(p: ProductRow) {
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    kind: p.kind,
    price: { amount: p.priceAmount, currency: p.priceCurrency },
    active: p.active,
    grants: JSON.parse(p.grants) as Record<string, unknown>,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}
