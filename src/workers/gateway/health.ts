import { createRoute, z } from "@hono/zod-openapi";
import { ping, platformDb } from "../../db/client";
import { createRouter, jsonResponse } from "./http";

const HealthSchema = z.object({ status: z.enum(["ok", "unavailable"]) }).openapi("Health");
const ReadySchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() })),
  })
  .openapi("Readiness");

/** Liveness and readiness probes. */
export const healthRoutes = createRouter();

healthRoutes.openapi(
  createRoute({
    method: "get",
    path: "/healthz",
    operationId: "getHealth",
    security: [],
    tags: ["Operations"],
    summary: "Liveness: the Worker runs",
    responses: { 200: jsonResponse(HealthSchema, "Alive") },
  }),
  (c) => c.json({ status: "ok" as const }, 200),
);

healthRoutes.openapi(
  createRoute({
    method: "get",
    path: "/readyz",
    operationId: "getReadiness",
    security: [],
    tags: ["Operations"],
    summary: "Readiness: the platform database answers",
    responses: {
      200: jsonResponse(ReadySchema, "Ready"),
      503: jsonResponse(ReadySchema, "A dependency is unreachable"),
    },
  }),
  async (c) => {
    const start = performance.now();
    let check: { ok: boolean; latencyMs: number; error?: string };
    try {
      // Bounded: a hung database must turn into a 503, not a hung probe.
      await Promise.race([
        ping(platformDb(c.env)),
        new Promise((_, reject) => setTimeout(() => reject(new Error("timed out after 2000 ms")), 2000)),
      ]);
      check = { ok: true, latencyMs: Math.round(performance.now() - start) };
    } catch (err) {
      check = {
        ok: false,
        latencyMs: Math.round(performance.now() - start),
        error: err instanceof Error ? err.message : String(err),
      };
    }
    const body = { status: check.ok ? ("ok" as const) : ("unavailable" as const), checks: { platformDb: check } };
    return c.json(body, check.ok ? 200 : 503);
  },
);
