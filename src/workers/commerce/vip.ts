import { createRoute, z } from "@hono/zod-openapi";
import { vipStateOf } from "../../db/tenant/vip";
import { isoOrNull } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { vipStatus } from "./vip-levels";

/** GET /v1/me/vip: the caller's membership now, computed from the schedule at request time. */
export const vipRoutes = createRouter();

const BenefitsSchema = z.object({
  aiQuotaBonusPercent: z.number().int(),
  discountPercent: z.number().int(),
  badge: z.string().nullable(),
  contentAccess: z.boolean(),
  maxUploadBytes: z.number().int().nullable(),
});

export const VipSchema = z
  .object({
    level: z.number().int().openapi({ description: "0 when not a member" }),
    name: z.string().nullable(),
    since: z.string().nullable(),
    expiresAt: z
      .string()
      .nullable()
      .openapi({ description: "When this level ends (to a queued lower level, or to 0)" }),
    benefits: BenefitsSchema,
  })
  .openapi("VipMembership");

vipRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/vip",
    operationId: "getMyVip",
    tags: ["VIP"],
    security: [{ bearer: [] }],
    middleware: signedIn(),
    summary: "The caller's VIP level now, when it started and ends, and its benefits",
    responses: { 200: jsonResponse(VipSchema, "Membership"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const s = scopeOf(c);
    const now = Date.now();
    const { periods } = await vipStateOf(s.db, me, now);
    const v = vipStatus(s.tenant.config, periods, now);
    return c.json(
      {
        level: v.level,
        name: v.name,
        since: isoOrNull(v.since),
        expiresAt: isoOrNull(v.expiresAt),
        benefits: v.benefits,
      },
      200,
    );
  },
);
