import { createRoute, z } from "@hono/zod-openapi";
import { hubStub } from "../../durable/protocol/stubs";
import { SessionSchema } from "./schemas";
import { sessionItems } from "./session-view";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { outrankedUser } from "../gateway/ranks";

/** A user's live sessions, for an admin who outranks them (devices, addresses, last use). */
export const adminSessionRoutes = createRouter();

adminSessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/users/{id}/sessions",
    operationId: "listUserSessions",
    tags: ["Tenant admin"],
    security: [{ bearer: [] }],
    summary: "A user's live sessions, most recently used first (end them with force-logout)",
    middleware: withPermission("users:read"),
    request: { params: z.object({ id: z.string().min(1).max(64) }) },
    responses: {
      200: jsonResponse(z.object({ items: z.array(SessionSchema), nextCursor: z.null() }), "Sessions"),
      ...problemResponses("forbidden", "rank_too_low", "user_not_found"),
    },
  }),
  async (c) => {
    const user = await outrankedUser(c.get("db"), c.get("principal"), c.req.valid("param").id);
    const sessions = await hubStub(c.env, c.get("tenant").id, user.id).listSessions();
    const p = c.get("principal");
    return c.json({ items: sessionItems(sessions, p.kind === "user" ? p.sessionId : null), nextCursor: null }, 200);
  },
);
