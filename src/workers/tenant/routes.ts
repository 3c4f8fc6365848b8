import { createRoute, z } from "@hono/zod-openapi";
import { PublicTenantInfoSchema, readPublicInfo } from "../../db/tenant/settings";
import { AppError } from "../../lib/errors";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";

const TenantInfoSchema = PublicTenantInfoSchema.extend({ id: z.string(), slug: z.string() }).openapi("TenantInfo");

/** Tenant-scoped public routes, mounted under /v1 behind tenant resolution. */
export const tenantRoutes = createRouter();

tenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenant",
    operationId: "getTenantInfo",
    security: [],
    tags: ["Tenant"],
    summary: "Public bootstrap info for client apps (name, features, sign-in options)",
    description:
      "Read from the tenant's own database. Address the tenant by host (<slug>.<base domain>) or the X-Tenant header.",
    responses: { 200: jsonResponse(TenantInfoSchema, "Tenant info"), ...problemResponses("tenant_not_ready") },
  }),
  async (c) => {
    const tenant = c.get("tenant");
    const info = await readPublicInfo(c.get("db"));
    if (!info)
      throw new AppError("tenant_not_ready", "The tenant's database has no public info yet; run its migrations.");
    return c.json({ id: tenant.id, slug: tenant.slug, ...info }, 200);
  },
);

const TimeSchema = z
  .object({ now: z.number().int().openapi({ description: "Server time, epoch milliseconds" }) })
  .openapi("ServerTime");

tenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/time",
    operationId: "getServerTime",
    security: [],
    tags: ["Tenant"],
    summary: "Server time, for client clock-skew correction (TOTP, message timestamps)",
    responses: { 200: jsonResponse(TimeSchema, "Server time") },
  }),
  (c) => c.json({ now: Date.now() }, 200),
);
