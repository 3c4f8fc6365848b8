import { createRoute } from "@hono/zod-openapi";
import { moderateText } from "../ai-core/moderation";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { ModerateSchema, ModerationSchema } from "./schemas";

/** POST /v1/ai/moderate: one text through the moderation pipeline, metered as one unit. */
export const moderateRoutes = createRouter();

moderateRoutes.openapi(
  createRoute({
    method: "post",
    path: "/ai/moderate",
    operationId: "moderateText",
    tags: ["AI"],
    security: [{ bearer: [] }],
    middleware: signedIn(),
    summary: "Moderate a text",
    description:
      "The tenant's word list first (a match decides, `provider: \"wordlist\"`, and costs nothing), then the classifier, one unit of the caller's quota and the tenant's pool. Decisions by the per-category thresholds of `ai.moderation.thresholds`.",
    request: { body: jsonBody(ModerateSchema) },
    responses: {
      200: jsonResponse(ModerationSchema, "The verdict"),
      ...problemResponses("user_required", "quota_exhausted"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const { text } = c.req.valid("json");
    const v = await moderateText(scopeOf(c), text, { userId: me }, (p) => c.executionCtx.waitUntil(p));
    return c.json(v, 200);
  },
);
