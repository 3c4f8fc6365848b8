import { createRoute } from "@hono/zod-openapi";
import { deleteEndpoint, listEndpoints, overlapEnd, signingSecrets } from "../../db/tenant/webhooks";
import { AppError } from "../../lib/errors";
import { withPermission } from "../gateway/middleware/authn";
import {
  createRouter,
  jsonBody,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  problemResponses,
  pagerFor,
} from "../gateway/http";
import { webhookDeliveryRoutes } from "./delivery-routes";
import {
  CreatedEndpointSchema,
  CreateEndpointSchema,
  DEFAULT_OVERLAP_SECONDS,
  EndpointParamSchema,
  EndpointSchema,
  RotatedSecretSchema,
  RotateSecretSchema,
  UpdateEndpointSchema,
} from "./schemas";
import { createEndpoint, endpointView, loadEndpoint, patchEndpoint, rotateEndpointSecret } from "./service";

/** Tenant webhooks, managed by the tenant's admins: /v1/admin/webhooks*. */
export const webhookRoutes = createRouter();
const tags = ["Webhooks"];
const security = [{ bearer: [] }];

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/webhooks",
    operationId: "listWebhooks",
    tags,
    security,
    summary: "List webhook endpoints, newest first",
    middleware: withPermission("webhooks:read"),
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse(pageSchema(EndpointSchema), "Endpoints"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const db = c.get("db");
    const pg = pagerFor(c, "id");
    const rows = await listEndpoints(db, { before: (await pg.after(q.cursor))?.[0], limit: q.limit + 1 });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    const now = Date.now();
    const items = await Promise.all(
      page.map(async (e) => endpointView(e, overlapEnd(await signingSecrets(db, e.id, now)))),
    );
    return c.json({ items, nextCursor }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/webhooks",
    operationId: "createWebhook",
    tags,
    security,
    summary: "Subscribe a URL to event types; the signing secret is shown once",
    middleware: withPermission("webhooks:write"),
    request: { body: jsonBody(CreateEndpointSchema) },
    responses: {
      201: jsonResponse(CreatedEndpointSchema, "Created"),
      ...problemResponses("webhook_url_not_allowed", "forbidden", "webhook_endpoint_limit"),
    },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    return c.json(await createEndpoint(c.env, tenant, c.get("db"), c.req.valid("json")), 201);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/webhooks/{id}",
    operationId: "getWebhook",
    tags,
    security,
    summary: "A webhook endpoint (never its secret)",
    middleware: withPermission("webhooks:read"),
    request: { params: EndpointParamSchema },
    responses: {
      200: jsonResponse(EndpointSchema, "The endpoint"),
      ...problemResponses("forbidden", "webhook_endpoint_not_found"),
    },
  }),
  async (c) => c.json((await loadEndpoint(c.get("db"), c.req.valid("param").id)).view, 200),
);

webhookRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/admin/webhooks/{id}",
    operationId: "updateWebhook",
    tags,
    security,
    summary: "Change the URL, event types, description, attempts; disable, or enable again (clears the failure run)",
    middleware: withPermission("webhooks:write"),
    request: { params: EndpointParamSchema, body: jsonBody(UpdateEndpointSchema) },
    responses: {
      200: jsonResponse(EndpointSchema, "The endpoint"),
      ...problemResponses("webhook_url_not_allowed", "forbidden", "webhook_endpoint_not_found"),
    },
  }),
  async (c) => c.json(await patchEndpoint(c.env, c.get("db"), c.req.valid("param").id, c.req.valid("json")), 200),
);

webhookRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/admin/webhooks/{id}",
    operationId: "deleteWebhook",
    tags,
    security,
    summary: "Delete an endpoint with its secrets and deliveries",
    middleware: withPermission("webhooks:write"),
    request: { params: EndpointParamSchema },
    responses: { 204: { description: "Deleted" }, ...problemResponses("forbidden", "webhook_endpoint_not_found") },
  }),
  async (c) => {
    if (!(await deleteEndpoint(c.get("db"), c.req.valid("param").id)))
      throw new AppError("webhook_endpoint_not_found", "No such webhook endpoint.");
    return c.body(null, 204);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/webhooks/{id}/rotate-secret",
    operationId: "rotateWebhookSecret",
    tags,
    security,
    summary:
      "Start signing with a new secret (shown once); the previous ones sign alongside for expiresInSeconds (default 24 h)",
    middleware: withPermission("webhooks:write"),
    request: {
      params: EndpointParamSchema,
      body: { required: false, content: { "application/json": { schema: RotateSecretSchema } } },
    },
    responses: {
      200: jsonResponse(RotatedSecretSchema, "The new secret"),
      ...problemResponses("forbidden", "webhook_endpoint_not_found"),
    },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    // Without a JSON body the validator hands over {} (defaults not applied): the default overlap then.
    const overlap = (c.req.valid("json") as { expiresInSeconds?: number }).expiresInSeconds ?? DEFAULT_OVERLAP_SECONDS;
    return c.json(await rotateEndpointSecret(c.env, tenant, c.get("db"), c.req.valid("param").id, overlap), 200);
  },
);

webhookRoutes.route("/", webhookDeliveryRoutes);
