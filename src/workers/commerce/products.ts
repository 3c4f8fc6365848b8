import { createRoute } from "@hono/zod-openapi";
import { deleteProduct, findProduct, insertProduct, productPage, updateProduct } from "../../db/tenant/products";
import type { ProductRow } from "../../db/tenant/schema";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn, withPermission } from "../gateway/middleware/authn";
import { checkProduct, productView } from "./catalogue";
import {
  AdminProductListQuerySchema,
  ProductCreateSchema,
  ProductIdParamSchema,
  ProductListQuerySchema,
  ProductPatchSchema,
  ProductSchema,
} from "./product-schemas";

/**
 * The catalogue: tenant admins (`products:write`) manage products at /v1/admin/products; users
 * list the active ones at GET /v1/products. Deleting is soft: orders keep their snapshot.
 */
export const productRoutes = createRouter();
const tags = ["Products"];
const security = [{ bearer: [] }];
const write = withPermission("products:write");
const notFound = () => new AppError("product_not_found", "No such product.");

productRoutes.openapi(
  createRoute({
    method: "get",
    path: "/products",
    operationId: "listProducts",
    tags,
    security,
    middleware: signedIn(),
    summary: "The active products, in catalogue order",
    request: { query: ProductListQuerySchema },
    responses: { 200: jsonResponse(pageSchema(ProductSchema), "Products"), ...problemResponses("user_required") },
  }),
  async (c) => {
    requireUser(c.get("principal"));
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const at = await pg.after(q.cursor);
    const rows = await productPage(scopeOf(c).db, { active: true, kind: q.kind, limit: q.limit + 1, afterId: at?.[0] });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    return c.json({ items: page.map(productView), nextCursor }, 200);
  },
);

productRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/products",
    operationId: "adminListProducts",
    tags,
    security,
    middleware: write,
    summary: "Every live product, active or not",
    request: { query: AdminProductListQuerySchema },
    responses: { 200: jsonResponse(pageSchema(ProductSchema), "Products"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const at = await pg.after(q.cursor);
    const rows = await productPage(scopeOf(c).db, {
      active: q.active,
      kind: q.kind,
      limit: q.limit + 1,
      afterId: at?.[0],
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    return c.json({ items: page.map(productView), nextCursor }, 200);
  },
);

productRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/products",
    operationId: "createProduct",
    tags,
    security,
    middleware: write,
    summary: "Add a product to the catalogue",
    description:
      "`grants` by kind: vip `{ level, days }` (a level of `vip.levels`), ai_quota `{ units }`, content `{ postId }` (a published post) or `{ tag }`, currency `{ amount, currency }` (a virtual currency, not the price's). The price is in an enabled currency, real or virtual.",
    request: { body: jsonBody(ProductCreateSchema) },
    responses: {
      201: jsonResponse(ProductSchema, "The product"),
      ...problemResponses("forbidden", "sku_taken", "currency_not_supported", "currency_mismatch"),
    },
  }),
  async (c) => {
    const s = scopeOf(c);
    const body = c.req.valid("json");
    const grants = await checkProduct(s, body.kind, body.price, body.grants);
    const now = Date.now();
    const row: ProductRow = {
      id: newId(now),
      sku: body.sku,
      name: body.name,
      kind: body.kind,
      priceAmount: body.price.amount,
      priceCurrency: body.price.currency,
      grants: JSON.stringify(grants),
      active: body.active,
      version: 1,
      deletedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await insertProduct(s.db, row))) throw new AppError("sku_taken", `The sku ${body.sku} is taken.`);
    return c.json(productView(row), 201);
  },
);

productRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/admin/products/{id}",
    operationId: "updateProduct",
    tags,
    security,
    middleware: write,
    summary: "Change a product (orders placed before keep what they bought)",
    request: { params: ProductIdParamSchema, body: jsonBody(ProductPatchSchema) },
    responses: {
      200: jsonResponse(ProductSchema, "The product"),
      ...problemResponses(
        "forbidden",
        "product_not_found",
        "sku_taken",
        "currency_not_supported",
        "currency_mismatch",
        "product_unavailable",
      ),
    },
  }),
  async (c) => {
    const s = scopeOf(c);
    const body = c.req.valid("json");
    const prev = await findProduct(s.db, c.req.valid("param").id);
    if (!prev) throw notFound();
    const price = body.price ?? { amount: prev.priceAmount, currency: prev.priceCurrency };
    const grants = await checkProduct(s, prev.kind, price, body.grants ?? JSON.parse(prev.grants));
    const now = Date.now();
    const next: ProductRow = {
      ...prev,
      sku: body.sku ?? prev.sku,
      name: body.name ?? prev.name,
      priceAmount: price.amount,
      priceCurrency: price.currency,
      grants: JSON.stringify(grants),
      active: body.active ?? prev.active,
      updatedAt: now,
    };
    const done = await updateProduct(s.db, next, prev.version);
    if (done === "taken") throw new AppError("sku_taken", `The sku ${next.sku} is taken.`);
    if (done === "stale") throw new AppError("product_unavailable", "The product changed meanwhile; read it again.");
    return c.json(productView({ ...next, version: prev.version + 1 }), 200);
  },
);

productRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/admin/products/{id}",
    operationId: "deleteProduct",
    tags,
    security,
    middleware: write,
    summary: "Remove a product from the catalogue (orders keep their snapshot)",
    request: { params: ProductIdParamSchema },
    responses: { 204: { description: "Deleted" }, ...problemResponses("forbidden", "product_not_found") },
  }),
  async (c) => {
    if (!(await deleteProduct(scopeOf(c).db, c.req.valid("param").id, Date.now()))) throw notFound();
    return c.body(null, 204);
  },
);
