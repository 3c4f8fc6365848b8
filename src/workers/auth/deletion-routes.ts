import { recordSecurityEvent, securityClient } from "../gateway/middleware/audit";
import { createRoute, z } from "@hono/zod-openapi";
import { iso } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { requestDeletion } from "./deletion";
import { DeleteMeSchema } from "./schemas";

/** The signed-in user's own account deletion: DELETE /v1/me. */
export const deletionRoutes = createRouter();

deletionRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/me",
    operationId: "deleteMe",
    tags: ["Account"],
    security: [{ bearer: [] }],
    summary: "Delete my account: every session ends now, the data is erased after the tenant's grace period",
    description:
      'Signing in with the right password during the grace period answers 409 `deletion_pending`; `"cancelDeletion": true` in the sign-in cancels the deletion (docs/privacy.md).',
    middleware: signedIn(),
    request: { body: jsonBody(DeleteMeSchema) },
    responses: {
      202: jsonResponse(z.object({ deletionScheduledAt: z.string() }), "Deletion scheduled"),
      ...problemResponses(
        "user_required",
        "invalid_credentials",
        "mfa_code_required",
        "last_owner",
        "account_inactive",
      ),
    },
  }),
  async (c) => {
    const p = requireUser(c.get("principal"));
    const dueAt = await requestDeletion(scopeOf(c), p.userId, c.req.valid("json"));
    // Before the erasure (grace 0) the entry names the account; after it, it is kept like any other.
    await recordSecurityEvent(c.get("db"), p.userId, "deletionRequested", securityClient(c), {
      deletionScheduledAt: iso(dueAt),
    });
    return c.json({ deletionScheduledAt: iso(dueAt) }, 202);
  },
);
