import { createRoute } from "@hono/zod-openapi";
import { findDelivery, listDeliveries } from "../../db/tenant/webhook-deliveries";
import { AppError } from "../../lib/errors";
import { withPermission } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, pageSchema, problemResponses, pagerFor } from "../gateway/http";
import {
  DeliveryDetailSchema,
  DeliveryParamSchema,
  DeliveryQuerySchema,
  DeliverySchema,
  EndpointParamSchema,
} from "./schemas";
import { deliveryDetail, deliveryView, loadEndpoint, retryDelivery, sendTest } from "./service";

/** A webhook endpoint's messages: /v1/admin/webhooks/{id}/deliveries*, /v1/admin/webhooks/{id}/test. */
export const webhookDeliveryRoutes = createRouter();
const tags = ["Webhooks"];
const security = [{ bearer: [] }];

webhookDeliveryRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/webhooks/{id}/deliveries",
    operationId: "listWebhookDeliveries",
    tags,
    security,
    summary: "List an endpoint's deliveries, newest first",
    middleware: withPermission("webhooks:read"),
    request: { params: EndpointParamSchema, query: DeliveryQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(DeliverySchema), "Deliveries"),
      ...problemResponses("forbidden", "webhook_endpoint_not_found"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const db = c.get("db");
    await loadEndpoint(db, id);
    const pg = pagerFor(c, "id");
    const rows = await listDeliveries(db, id, {
      status: q.status,
      before: (await pg.after(q.cursor))?.[0],
      limit: q.limit + 1,
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    return c.json({ items: page.map(deliveryView), nextCursor }, 200);
  },
);

webhookDeliveryRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/webhooks/{id}/deliveries/{deliveryId}",
    operationId: "getWebhookDelivery",
    tags,
    security,
    summary: "A delivery with its body and every attempt",
    middleware: withPermission("webhooks:read"),
    request: { params: DeliveryParamSchema },
    responses: {
      200: jsonResponse(DeliveryDetailSchema, "The delivery"),
      ...problemResponses("forbidden", "webhook_delivery_not_found"),
    },
  }),
  async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    const db = c.get("db");
    const d = await findDelivery(db, id, deliveryId);
    if (!d) throw new AppError("webhook_delivery_not_found", "No such delivery for this endpoint.");
    return c.json(await deliveryDetail(db, d), 200);
  },
);

webhookDeliveryRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/webhooks/{id}/deliveries/{deliveryId}/retry",
    operationId: "retryWebhookDelivery",
    tags,
    security,
    summary: "Send a delivery again now (same webhook-id); answers it after the attempt",
    middleware: withPermission("webhooks:write"),
    request: { params: DeliveryParamSchema },
    responses: {
      200: jsonResponse(DeliveryDetailSchema, "The delivery after the attempt"),
      ...problemResponses(
        "forbidden",
        "webhook_delivery_not_found",
        "webhook_endpoint_not_found",
        "webhook_endpoint_disabled",
      ),
    },
  }),
  async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    const tenant = c.get("tenant");
    return c.json(await retryDelivery(c.env, tenant, c.get("db"), id, deliveryId), 200);
  },
);

webhookDeliveryRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/webhooks/{id}/test",
    operationId: "testWebhook",
    tags,
    security,
    summary: "Send a webhook.test message to the endpoint now; answers the delivery after the attempt",
    middleware: withPermission("webhooks:write"),
    request: { params: EndpointParamSchema },
    responses: {
      200: jsonResponse(DeliveryDetailSchema, "The test delivery after its first attempt"),
      ...problemResponses("forbidden", "webhook_endpoint_not_found"),
    },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    return c.json(await sendTest(c.env, tenant, c.get("db"), c.req.valid("param").id), 200);
  },
);
