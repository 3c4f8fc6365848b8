import { createRoute, z } from "@hono/zod-openapi";
import { ping, platformDb } from "../../db/client";
import { breakerStates } from "../../lib/breakers";
import { createRouter, jsonResponse } from "./http";

const HealthSchema = z.object({ status: z.enum(["ok", "unavailable"]) }).openapi("Health");
const BreakerStateSchema = z.enum(["closed", "open", "halfOpen"]);
const ReadySchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    checks: z.record(
      z.string(),
      z.object({
        ok: z.boolean(),
        latencyMs: z.number(),
        breaker: BreakerStateSchema.optional(),
        error: z.string().optional(),
      }),
    ),
    breakers: z.record(z.string(), z.object({ open: z.number().int(), halfOpen: z.number().int() })).openapi({
      description:
        "This isolate's circuit breakers that are not closed, counted by dependency (one breaker per database, webhook endpoint, provider); which ones is in the logs and metrics, not on this public route",
    }),
  })
  .openapi("Readiness");

/** Breakers that are not closed, counted by dependency. */
function notClosed(all: ReturnType<typeof breakerStates>): Record<string, { open: number; halfOpen: number }> {
  const out: Record<string, { open: number; halfOpen: number }> = {};
  for (const b of all) {
    if (b.state === "closed") continue;
    const n = (out[b.dependency] ??= { open: 0, halfOpen: 0 });
    n[b.state]++;
  }
  return out;
}

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
    summary: "Readiness: each dependency with its breaker state and latency",
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
    const all = breakerStates();
    const platform = all.find((b) => b.dependency === "platform_db")?.state ?? "closed";
    const body = {
      status: check.ok ? ("ok" as const) : ("unavailable" as const),
      checks: { platformDb: { ...check, breaker: platform } },
      breakers: notClosed(all),
    };
    return c.json(body, check.ok ? 200 : 503);
  },
);
