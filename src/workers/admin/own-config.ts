import { createRoute, z } from "@hono/zod-openapi";
import { platformDb } from "../../db/client";
import {
  parseStoredConfig,
  type TenantConfigPatch,
  tenantConfigPatchSchema,
  tenantConfigSchema,
} from "../../lib/tenant-config";
import { updateTenantDetails } from "./service";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { forgetTenant } from "../tenancy/tenant-cache";

/**
 * A tenant's own config, as its owner edits it (the console's config page): every section is
 * readable; the sections that shape the tenant's app are writable. What the platform sells or
 * protects (limits, AI pool and quotas, sign-in throttles, realtime caps, backups, search, audit
 * retention) stays with the operator (PATCH /admin/v1/tenants/{slug}).
 */
export const adminConfigRoutes = createRouter();
const tags = ["Tenant admin"];
const security = [{ bearer: [] }];

export const TENANT_EDITABLE = [
  "allowedOrigins",
  "features",
  "signIn",
  "session",
  "email",
  "content",
  "messages",
  "commerce",
  "vip",
  "privacy",
  "retention",
] as const;

const ConfigView = z
  .object({
    config: z.lazy(tenantConfigSchema).openapi({ description: "The whole config, defaults filled in" }),
    editable: z.array(z.string()).openapi({ description: "The top-level sections this route may change" }),
  })
  .openapi("TenantOwnConfig");

const OwnConfigPatch = z
  .lazy(tenantConfigPatchSchema)
  .superRefine((patch, ctx) => {
    for (const key of Object.keys(patch as object))
      if (!(TENANT_EDITABLE as readonly string[]).includes(key))
        ctx.addIssue({ code: "custom", path: [key], message: "is set by the platform operator, not by the tenant" });
  })
  .openapi({ description: `A partial config; only the sections ${TENANT_EDITABLE.join(", ")}` });

const view = (config: unknown) => ({ config, editable: [...TENANT_EDITABLE] });

adminConfigRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/config",
    operationId: "getOwnConfig",
    tags,
    security,
    summary: "The tenant's config, and which sections its owner may change",
    middleware: withPermission("config:read"),
    responses: { 200: jsonResponse(ConfigView, "The config"), ...problemResponses("forbidden") },
  }),
  (c) => c.json(view(c.get("tenant").config) as z.infer<typeof ConfigView>, 200),
);

adminConfigRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/admin/config",
    operationId: "updateOwnConfig",
    tags,
    security,
    summary: "Change the tenant's own sections of its config (partial; validated whole, errors by path)",
    middleware: withPermission("config:write"),
    request: { body: { required: true, content: { "application/json": { schema: OwnConfigPatch } } } },
    responses: { 200: jsonResponse(ConfigView, "The config now"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    const patch = c.req.valid("json") as TenantConfigPatch;
    const { before, updated } = await updateTenantDetails(c.env, platformDb(c.env), tenant.slug, { config: patch });
    forgetTenant(tenant.slug, tenant.id);
    c.get("audit").changes = {
      before: { config: JSON.parse(before.config) },
      after: { config: JSON.parse(updated.config) },
    };
    return c.json(view(parseStoredConfig(updated.config)) as z.infer<typeof ConfigView>, 200);
  },
);
