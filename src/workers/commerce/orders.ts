import { createRoute } from "@hono/zod-openapi";
import { findOrder, orderPage } from "../../db/tenant/orders";
import { AppError } from "../../lib/errors";
import { scopeOf } from "../gateway/context";
import {
  createRouter,
  jsonBody,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  pagerFor,
  problemResponses,
} from "../gateway/http";
import { requireUser, signedIn, withPermission } from "../gateway/middleware/authn";
import { MoneyKeyHeaderSchema } from "./idempotency";
import {
  AdminOrderListQuerySchema,
  OrderCreateSchema,
  OrderIdParamSchema,
  OrderSchema,
  RefundSchema,
} from "./order-schemas";
import { placeOrder } from "./order-service";
import { orderView } from "./order-view";
import { refundOrder } from "./refund-service";

/**
 * Orders: POST /v1/orders pays from the wallet and grants at once; users read their own
 * (GET /v1/orders, /v1/orders/{id}); admins list every order (`orders:read`) and refund
 * (`orders:refund`).
 */
export const orderRoutes = createRouter();
const tags = ["Orders"];
const security = [{ bearer: [] }];
const notFound = () => new AppError("order_not_found", "No such order.");

orderRoutes.openapi(
  createRoute({
    method: "post",
    path: "/orders",
    operationId: "createOrder",
    tags,
    security,
    middleware: signedIn(),
    summary: "Buy products, paying from the wallet (requires Idempotency-Key)",
    description:
      "One batch debits the wallet and grants what was bought (VIP time, AI quota units, unlocked content, virtual currency): the order is `fulfilled` at once, or nothing happens. 402 `insufficient_funds` when the balance does not cover the total (stored with the key: a retry with the same key answers 402 again, even after a top-up). The buyer's VIP discount applies to products other than VIP memberships.",
    request: { headers: MoneyKeyHeaderSchema, body: jsonBody(OrderCreateSchema) },
    responses: {
      201: jsonResponse(OrderSchema, "The order, fulfilled"),
      ...problemResponses(
        "user_required",
        "idempotency_key_required",
        "idempotency_in_progress",
        "idempotency_mismatch",
        "idempotency_conflict",
        "insufficient_funds",
        "product_not_found",
        "product_unavailable",
        "already_owned",
        "currency_mismatch",
      ),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    // A replay is a stored Response, not one of the route's typed answers.
    return (await placeOrder(c, me, c.req.valid("json"))) as never;
  },
);

orderRoutes.openapi(
  createRoute({
    method: "get",
    path: "/orders",
    operationId: "listOrders",
    tags,
    security,
    middleware: signedIn(),
    summary: "The caller's orders, newest first",
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse(pageSchema(OrderSchema), "Orders"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const at = await pg.after(q.cursor);
    const rows = await orderPage(scopeOf(c).db, { userId: me, limit: q.limit + 1, beforeId: at?.[0] });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    return c.json({ items: page.map(orderView), nextCursor }, 200);
  },
);

orderRoutes.openapi(
  createRoute({
    method: "get",
    path: "/orders/{id}",
    operationId: "getOrder",
    tags,
    security,
    middleware: signedIn(),
    summary: "One of the caller's orders",
    request: { params: OrderIdParamSchema },
    responses: { 200: jsonResponse(OrderSchema, "The order"), ...problemResponses("user_required", "order_not_found") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const o = await findOrder(scopeOf(c).db, c.req.valid("param").id);
    if (!o || o.userId !== me) throw notFound();
    return c.json(orderView(o), 200);
  },
);

orderRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/orders",
    operationId: "adminListOrders",
    tags,
    security,
    middleware: withPermission("orders:read"),
    summary: "The tenant's orders, newest first (by user and status)",
    request: { query: AdminOrderListQuerySchema },
    responses: { 200: jsonResponse(pageSchema(OrderSchema), "Orders"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const at = await pg.after(q.cursor);
    const rows = await orderPage(scopeOf(c).db, {
      userId: q.userId,
      status: q.status,
      limit: q.limit + 1,
      beforeId: at?.[0],
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    return c.json({ items: page.map(orderView), nextCursor }, 200);
  },
);

orderRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/orders/{id}",
    operationId: "adminGetOrder",
    tags,
    security,
    middleware: withPermission("orders:read"),
    summary: "Any order of the tenant",
    request: { params: OrderIdParamSchema },
    responses: { 200: jsonResponse(OrderSchema, "The order"), ...problemResponses("forbidden", "order_not_found") },
  }),
  async (c) => {
    const o = await findOrder(scopeOf(c).db, c.req.valid("param").id);
    if (!o) throw notFound();
    return c.json(orderView(o), 200);
  },
);

orderRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/orders/{id}/refund",
    operationId: "refundOrder",
    tags,
    security,
    middleware: withPermission("orders:refund"),
    summary: "Refund an order (requires Idempotency-Key): money back, grants taken back as far as unused",
    description:
      "The total goes back to the wallet from the tenant's `refunds` account (a reversing transaction); virtual currency the order granted is taken back as far as the wallet still holds it (the rest is the `shortfall`); unused AI quota units and unlocked content are revoked; the order's remaining VIP time is removed and later periods move up. One refund per order: another is 409 `order_not_refundable`.",
    request: { params: OrderIdParamSchema, headers: MoneyKeyHeaderSchema, body: jsonBody(RefundSchema) },
    responses: {
      200: jsonResponse(OrderSchema, "The order, refunded"),
      ...problemResponses(
        "forbidden",
        "order_not_found",
        "order_not_refundable",
        "idempotency_key_required",
        "idempotency_in_progress",
        "idempotency_mismatch",
        "idempotency_conflict",
      ),
    },
  }),
  async (c) => (await refundOrder(c, c.req.valid("param").id, c.req.valid("json"))) as never,
);
