import { createRoute } from "@hono/zod-openapi";
import { platformDb } from "../../db/client";
import { findTenantBySlug, listTenantRows } from "../../db/platform/tenants";
import { tenantDb } from "../../db/tenant-db";
import { AppError } from "../../lib/errors";
import type { ResolvedTenant } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses, pagerFor } from "../gateway/http";
import { resolveTenantById } from "../tenancy/tenant-cache";
import {
  SlugParamSchema,
  TenantUsageQuerySchema,
  TenantUsageReportSchema,
  UsagePageSchema,
  UsageQuerySchema,
  type UsageItem,
  type UsagePage,
} from "./schemas";
import { resolveRange, statsReport, usageFigures } from "./service";

/** Tenant databases read at once while building a usage page. */
const CONCURRENCY = 8;

/**
 * The platform admin's usage views, mounted at /admin/v1. The gateway puts the platform
 * admin check in front of every /admin/v1 route.
 */
export const usageRoutes = createRouter();
const tags = ["Platform admin"];
const security = [{ adminToken: [] }];

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/usage",
    operationId: "listTenantUsage",
    tags,
    security,
    summary: "Usage of every tenant over a range of UTC days, newest tenants first",
    request: { query: UsageQuerySchema },
    responses: { 200: jsonResponse(UsagePageSchema, "A page of tenants' usage"), ...problemResponses("invalid_range") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const { from, to } = resolveRange({ from: q.from, to: q.to, granularity: "day" });
    const db = platformDb(c.env);
    const pg = pagerFor(c, "id");
    const rows = await listTenantRows(db, { limit: q.limit + 1, before: (await pg.after(q.cursor))?.[0] });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    const items: UsageItem[] = [];
    const unavailable: UsagePage["unavailable"] = [];
    // Deleted tenants have no live database to read: they are skipped (pages may be short).
    const queue = page.filter((r) => r.status === "active" || r.status === "suspended");
    const results = new Map<string, UsageItem>();
    const worker = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        try {
          const tenant = await resolveTenantById(c.env, () => db, row.id);
          if (!tenant) continue;
          results.set(row.id, { ...identity(tenant), ...(await usageFigures(tenantDb(tenant.db), from, to)) });
        } catch (err) {
          unavailable.push({ tenantId: row.id, slug: row.slug, error: String(err).slice(0, 200) });
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    for (const r of page) {
      const item = results.get(r.id);
      if (item) items.push(item);
    }
    return c.json({ from, to, items, nextCursor, unavailable }, 200);
  },
);

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{slug}/usage",
    operationId: "getTenantUsage",
    tags,
    security,
    summary: "One tenant's statistics, as its admins see them",
    request: { params: SlugParamSchema, query: TenantUsageQuerySchema },
    responses: {
      200: jsonResponse(TenantUsageReportSchema, "The tenant's statistics"),
      ...problemResponses("invalid_range", "tenant_not_found"),
    },
  }),
  async (c) => {
    const { slug } = c.req.valid("param");
    const range = resolveRange(c.req.valid("query"));
    const db = platformDb(c.env);
    const row = await findTenantBySlug(db, slug);
    const tenant = row ? await resolveTenantById(c.env, () => db, row.id) : null;
    if (!tenant) throw new AppError("tenant_not_found", `No active or suspended tenant '${slug}'.`);
    return c.json({ tenantId: tenant.id, slug: tenant.slug, ...(await statsReport(tenantDb(tenant.db), range)) }, 200);
  },
);

const identity = (t: ResolvedTenant) => ({
  tenantId: t.id,
  slug: t.slug,
  name: t.name,
  status: t.status,
  plan: t.plan,
});
