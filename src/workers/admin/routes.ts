import { createRoute } from "@hono/zod-openapi";
import { platformDb } from "../../db/client";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { IdempotencyHeaderSchema, onceByKey, replayedHeader } from "../gateway/middleware/idempotency";
import { forgetTenant } from "../tenancy/tenant-cache";
import { requestSocketClose } from "./sockets";
import {
  CreateTenantSchema,
  MigrationStatusSchema,
  SlugParamSchema,
  TenantSchema,
  TenantStatusSchema,
  UpdateTenantSchema,
} from "./schemas";
import * as svc from "./service";

/** Platform admin API, mounted at /admin/v1. Every route needs the platform admin token (checked once by the gateway for all of /admin/v1). */
export const adminRoutes = createRouter();
adminRoutes.openAPIRegistry.registerComponent("securitySchemes", "adminToken", { type: "http", scheme: "bearer" });

const tags = ["Platform admin"];
const security = [{ adminToken: [] }];
const notFound = problemResponses("tenant_not_found");
const tenantResponse = jsonResponse(TenantSchema, "The tenant");

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tenants",
    operationId: "createTenant",
    tags,
    security,
    summary: "Create a tenant (provisions and migrates its database)",
    request: {
      headers: IdempotencyHeaderSchema,
      body: { required: true, content: { "application/json": { schema: CreateTenantSchema } } },
    },
    responses: {
      201: jsonResponse(TenantSchema, "Created"),
      ...problemResponses("tenant_exists", "provisioning_failed"),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const answer = await onceByKey(
      c.env,
      "admin:create-tenant",
      c.req.valid("header")["idempotency-key"],
      input,
      async () => {
        const view = svc.toView(await svc.createTenant(c.env, platformDb(c.env), input));
        forgetTenant(view.slug);
        return { status: 201, body: view };
      },
    );
    return c.json(answer.body, 201, replayedHeader(answer.replayed));
  },
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants",
    operationId: "listTenants",
    tags,
    security,
    summary: "List tenants, newest first",
    request: { query: PageQuerySchema.extend({ status: TenantStatusSchema.optional() }) },
    responses: { 200: jsonResponse(pageSchema(TenantSchema), "A page of tenants") },
  }),
  async (c) => c.json(await svc.listTenants(platformDb(c.env), pagerFor(c, "id"), c.req.valid("query")), 200),
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{slug}",
    operationId: "getTenant",
    tags,
    security,
    summary: "Get a tenant",
    request: { params: SlugParamSchema },
    responses: { 200: tenantResponse, ...notFound },
  }),
  async (c) => c.json(svc.toView(await svc.getTenant(platformDb(c.env), c.req.valid("param").slug)), 200),
);

adminRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/tenants/{slug}",
    operationId: "updateTenant",
    tags,
    security,
    summary: "Update name, plan or config (partial)",
    request: {
      params: SlugParamSchema,
      body: { required: true, content: { "application/json": { schema: UpdateTenantSchema } } },
    },
    responses: { 200: tenantResponse, ...problemResponses("tenant_not_found", "tenant_deleted") },
  }),
  async (c) => {
    const { slug } = c.req.valid("param");
    const { before, updated } = await svc.updateTenantDetails(c.env, platformDb(c.env), slug, c.req.valid("json"));
    forgetTenant(slug);
    // The audit entry's before and after (the config holds no secrets: those are sealed elsewhere).
    const facts = (r: typeof before) => ({ name: r.name, plan: r.plan, config: JSON.parse(r.config) as unknown });
    c.get("audit").changes = { before: facts(before), after: facts(updated) };
    return c.json(svc.toView(updated), 200);
  },
);

for (const [path, to, operationId, summary] of [
  ["/tenants/{slug}/suspend", "suspended", "suspendTenant", "Suspend a tenant: its routes answer 403 tenant_suspended"],
  ["/tenants/{slug}/resume", "active", "resumeTenant", "Resume a suspended tenant"],
] as const) {
  adminRoutes.openapi(
    createRoute({
      method: "post",
      path,
      operationId,
      tags,
      security,
      summary,
      request: { params: SlugParamSchema },
      responses: { 200: tenantResponse, ...problemResponses("tenant_not_found", "tenant_deleted") },
    }),
    async (c) => {
      const { slug } = c.req.valid("param");
      const row = await svc.setTenantStatus(platformDb(c.env), slug, to);
      forgetTenant(slug, row.id);
      if (to === "suspended") await requestSocketClose(c.env, row.id, "tenant_suspended");
      return c.json(svc.toView(row), 200);
    },
  );
}

adminRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/tenants/{slug}",
    operationId: "deleteTenant",
    tags,
    security,
    summary: "Soft-delete a tenant (the database is kept until purge)",
    request: { params: SlugParamSchema },
    responses: { 200: tenantResponse, ...notFound },
  }),
  async (c) => {
    const { slug } = c.req.valid("param");
    const row = await svc.setTenantStatus(platformDb(c.env), slug, "deleted");
    forgetTenant(slug, row.id);
    await requestSocketClose(c.env, row.id, "tenant_deleted");
    return c.json(svc.toView(row), 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tenants/{slug}/purge",
    operationId: "purgeTenant",
    tags,
    security,
    summary: "Permanently remove a deleted tenant and its database",
    request: { params: SlugParamSchema },
    responses: { 204: { description: "Purged" }, ...problemResponses("tenant_not_found", "tenant_not_deleted") },
  }),
  async (c) => {
    const { slug } = c.req.valid("param");
    await svc.purgeTenant(c.env, platformDb(c.env), slug);
    forgetTenant(slug);
    return c.body(null, 204);
  },
);

for (const [method, summary] of [
  ["get", "Migration status of the tenant's database"],
  ["post", "Apply pending migrations to the tenant's database now"],
] as const) {
  adminRoutes.openapi(
    createRoute({
      method,
      path: "/tenants/{slug}/migrations",
      operationId: method === "get" ? "getTenantMigrations" : "migrateTenant",
      tags,
      security,
      summary,
      request: { params: SlugParamSchema },
      responses: { 200: jsonResponse(MigrationStatusSchema, "Migration status"), ...notFound },
    }),
    async (c) =>
      c.json(await svc.migrationStatus(c.env, platformDb(c.env), c.req.valid("param").slug, method === "post"), 200),
  );
}
