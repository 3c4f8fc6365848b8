import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { constantTimeEqual } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { samplesAsJson } from "../../lib/metrics/as-json";
import { CONTENT_TYPES, formatFor, renderExposition } from "../../lib/metrics/exposition";
import type { AppEnv } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { readSamples, readTenantSamples } from "./metrics-read";

/** A token that opens /metrics: set, and long enough not to be guessed (an unset one opens nothing). */
const usable = (t: string | undefined): t is string => typeof t === "string" && t.length >= 16;

/** `Authorization: Bearer` with the scrape token (METRICS_TOKEN) or the platform admin token. */
function scrapeToken(): MiddlewareHandler<AppEnv> {
  return async function scrapeToken(c, next) {
    const m = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    const given = m?.[1];
    let ok = false;
    // Both compared, in constant time, whichever matches.
    for (const t of [c.env.METRICS_TOKEN, c.env.ADMIN_TOKEN])
      if (given && usable(t) && (await constantTimeEqual(given, t))) ok = true;
    if (!ok)
      throw new AppError("metrics_unauthorized", "A scrape token is required (Authorization: Bearer …).", {
        headers: { "www-authenticate": 'Bearer realm="canopy-metrics"' },
      });
    await next();
  };
}

/** GET /metrics: the platform's metrics for Prometheus. */
export const scrapeRoutes = createRouter();
scrapeRoutes.openAPIRegistry.registerComponent("securitySchemes", "metricsToken", {
  type: "http",
  scheme: "bearer",
  description: "The scrape token (METRICS_TOKEN)",
});

scrapeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/metrics",
    operationId: "getMetrics",
    tags: ["Operations"],
    security: [{ metricsToken: [] }, { adminToken: [] }],
    summary: "Metrics in the Prometheus text format, or OpenMetrics when asked by Accept",
    description:
      "Counts are exact across isolates: each isolate flushes its deltas to aggregating Durable Objects, which this route reads (docs/operations.md).",
    middleware: scrapeToken(),
    responses: {
      200: {
        description: "The exposition",
        content: {
          "text/plain": { schema: { type: "string" } },
          "application/openmetrics-text": { schema: { type: "string" } },
        },
      },
      ...problemResponses("metrics_unauthorized"),
    },
  }),
  async (c) => {
    const format = formatFor(c.req.header("accept"));
    const body = renderExposition(await readSamples(c.env), format);
    return c.body(body, 200, { "content-type": CONTENT_TYPES[format], "cache-control": "no-store" });
  },
);

const SeriesSchema = z.object({ labels: z.record(z.string(), z.string()), value: z.number() });
const HistogramSchema = z.object({
  labels: z.record(z.string(), z.string()),
  count: z.number(),
  sumSeconds: z.number(),
  buckets: z.array(z.object({ le: z.union([z.number(), z.literal("+Inf")]), count: z.number() })),
});
const TenantMetricsSchema = z
  .object({
    generatedAt: z.string(),
    metrics: z
      .record(z.string(), z.array(z.union([SeriesSchema, HistogramSchema])))
      .openapi({ description: "By metric name (the names of GET /metrics): only those this tenant has samples of" }),
  })
  .openapi("TenantMetrics");

/** GET /v1/admin/metrics: the same figures, for one tenant, as JSON. */
export const tenantMetricsRoutes = createRouter();

tenantMetricsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/metrics",
    operationId: "getTenantMetrics",
    tags: ["Tenant admin"],
    security: [{ bearer: [] }],
    summary: "This tenant's metrics (requests, latency, messages, auth events, rate limits, queues, AI) as JSON",
    middleware: withPermission("stats:read"),
    responses: { 200: jsonResponse(TenantMetricsSchema, "The tenant's metrics"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const samples = await readTenantSamples(c.env, c.get("tenant").id);
    return c.json({ generatedAt: new Date().toISOString(), metrics: samplesAsJson(samples) }, 200);
  },
);
