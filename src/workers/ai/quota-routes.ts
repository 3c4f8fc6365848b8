import { createRoute } from "@hono/zod-openapi";
import { iso } from "../../lib/time";
import { quotaStub } from "../../durable/protocol/stubs";
import { quotaConfigs, userFacts } from "../ai-core/facts";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { QuotaSchema } from "./schemas";

/** The caller's AI quota: GET /v1/ai/quota. */
export const quotaRoutes = createRouter();

/** The status of what remains, as a share of the whole (period allowance and packs). */
export function quotaStatus(remaining: number, total: number): "ok" | "warning" | "critical" | "exhausted" {
  if (remaining <= 0) return "exhausted";
  if (total <= 0) return "ok";
  if (remaining <= total * 0.1) return "critical";
  return remaining <= total * 0.2 ? "warning" : "ok";
}

quotaRoutes.openapi(
  createRoute({
    method: "get",
    path: "/ai/quota",
    operationId: "getAiQuota",
    tags: ["AI"],
    security: [{ bearer: [] }],
    middleware: signedIn(),
    summary: "The caller's AI quota in the current period",
    description:
      "Read fresh: the VIP bonus and the packs are read from the database on every call, so a paid pack or a VIP change shows at once.",
    responses: { 200: jsonResponse(QuotaSchema, "The quota"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const s = scopeOf(c);
    const now = Date.now();
    const facts = await userFacts(s, me, now);
    const st = await quotaStub(c.env, s.tenant.id, me).status({
      owner: { tenantId: s.tenant.id, scope: "user", userId: me },
      cfg: quotaConfigs(s).user,
      facts,
      now,
    });
    if (st.kind !== "status") throw new Error("quota object refused fresh facts");
    const remaining = st.free + st.packs;
    return c.json(
      {
        period: { start: iso(st.period.start), end: iso(st.period.end) },
        limit: st.limit,
        used: st.used,
        reserved: st.reserved,
        remaining,
        bonus: st.bonus,
        packs: st.packs,
        status: quotaStatus(remaining, st.limit + st.packs),
      },
      200,
    );
  },
);
