import { createRoute } from "@hono/zod-openapi";
import { withPermission } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { StatsQuerySchema, StatsReportSchema } from "./schemas";
import { resolveRange, statsReport } from "./service";

/** The tenant admin's dashboard figures: /v1/admin/stats. */
export const statsRoutes = createRouter();

statsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/stats",
    operationId: "getStats",
    tags: ["Tenant admin"],
    security: [{ bearer: [] }],
    middleware: withPermission("stats:read"),
    summary: "Usage statistics: a series per day, ISO week or month (UTC), totals, and levels as of `to`",
    request: { query: StatsQuerySchema },
    responses: {
      200: jsonResponse(StatsReportSchema, "Statistics"),
      ...problemResponses("invalid_range", "forbidden"),
    },
  }),
  async (c) => c.json(await statsReport(c.get("db"), resolveRange(c.req.valid("query"))), 200),
);
